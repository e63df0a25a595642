// The zxcvbn-ts bundle (dist/zxcvbn.js, built from src/vendor-zxcvbn.js) that the member's page
// loads for its strength meter (idp/static/app/password.js: score 0 refused, 1-2 confirmed,
// 3-4 accepted). Pins the scores the page's rules and the e2e tests rely on.
import assert from 'node:assert/strict';
import test from 'node:test';
import { ZxcvbnFactory, adjacencyGraphs, commonDictionary, enDictionary } from '../dist/zxcvbn.js';

const zxcvbn = new ZxcvbnFactory({ dictionary: { ...commonDictionary, ...enDictionary }, graphs: adjacencyGraphs });
const score = (/** @type {string} */ password, inputs = /** @type {string[]} */ ([])) => zxcvbn.check(password, inputs).score;

test('the bottom of the scale: refused by the page', () => {
  for (const password of ['123456', '1234567890', 'qwertyuiop', 'password']) assert.equal(score(password), 0, password);
});

test('weak or fair: the page asks to confirm', () => {
  for (const password of ['password12', 'Summer2024!', 'zaqwsx1234']) {
    const s = score(password);
    assert.ok(s >= 1 && s <= 2, `${password}: ${s}`);
  }
});

test('phrases of several words are strong, in Russian too', () => {
  for (const password of ['тихий-берег-старой-реки-42', 'формы по спецификации 2026', 'correct horse battery staple']) {
    assert.ok(score(password) >= 3, password);
  }
});

test('the email as a user input lowers the score', () => {
  assert.ok(score('ivan.petrov1990', ['ivan.petrov', 'ivan', 'petrov']) < score('ivan.petrov1990'));
});

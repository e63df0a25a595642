// Phones and passport parts of the card, against tests/data/phones.json, which pins this module
// and cardcoop.schema (Python phonenumbers) to the same answers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import test from 'node:test';
import { isValidRuPhone, normalizeCard, normalizePassportPart, normalizePhone } from '../src/card/index.js';

const fixture = JSON.parse(readFileSync(new URL('../../tests/data/phones.json', import.meta.url), 'utf8'));

test('the shared phone fixture: E.164 or null, and the format agrees', () => {
  assert.equal(fixture.region, 'RU');
  assert.ok(fixture.cases.length >= 30);
  for (const { input, e164 } of fixture.cases) {
    assert.equal(normalizePhone(input), e164, JSON.stringify(input));
    assert.equal(isValidRuPhone(input), e164 !== null, JSON.stringify(input));
    if (e164 !== null) assert.equal(normalizePhone(e164), e164, `${e164} is a fixed point`);
  }
});

test('phones: not a string, too long', () => {
  for (const bad of [undefined, null, 79123456789, ['+79123456789'], {}]) assert.equal(normalizePhone(bad), null);
  assert.equal(normalizePhone(`+7 912 345 67 89${' '.repeat(17)}`), null); // 33 code points
  assert.equal(normalizePhone(`+7 912 345 67 89${' '.repeat(16)}`), '+79123456789');
});

test('the shared passport fixture', () => {
  for (const { input, output } of fixture.passport) {
    assert.deepEqual(normalizeCard({ person_type: 'individual', passport: input }).passport, output, JSON.stringify(input));
  }
  assert.equal(normalizePassportPart('series', '45\u00a006'), '4506');
});

test('normalizeCard: a copy, the phone in E.164, other fields untouched', () => {
  const card = { person_type: 'individual', last_name: ' Петров ', phone: '8 912 345-67-89', passport: { series: '45 06', issued_by: 'ОВД' } };
  const out = normalizeCard(card);
  assert.deepEqual(out, { person_type: 'individual', last_name: ' Петров ', phone: '+79123456789', passport: { series: '4506', issued_by: 'ОВД' } });
  assert.equal(card.phone, '8 912 345-67-89', 'the input is not changed');
  assert.equal(normalizeCard({ phone: 'call me' }).phone, 'call me', 'unreadable values stay for validation to report');
  assert.deepEqual(normalizeCard({ passport: 'x', phone: 5 }), { passport: 'x', phone: 5 });
  assert.equal(normalizeCard(null), null);
});

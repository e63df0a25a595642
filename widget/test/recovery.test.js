// PROTOCOL.md §3 recovery key: format, parse, wrap and unwrap. vectors-v1.json has no recovery
// entry, so these are round-trip and known-answer checks of the construction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { vectors } from './helpers/vectors.js';
import {
  b64uDecode,
  formatRecoveryKey,
  generateRecoveryKey,
  openEnvelope,
  parseRecoveryKey,
  recoverWrappedCardKey,
  recoveryAuthKey,
  unwrapCardKey,
  unwrapCardKeyWithRecovery,
  wrapCardKeyForRecovery,
  decryptPersonalData,
} from '../src/crypto/index.js';

const cardKey = b64uDecode(vectors.card_key);
const personal = vectors.envelopes.find((/** @type {any} */ v) => v.name === 'encrypted_personal_data');

test('recovery key format: Crockford base32, 13 groups of 4', () => {
  assert.equal(formatRecoveryKey(new Uint8Array(32)), Array(13).fill('0000').join('-'));
  assert.equal(formatRecoveryKey(new Uint8Array(32).fill(0xff)), Array(12).fill('ZZZZ').join('-') + '-ZZZG');
  const key = generateRecoveryKey();
  const text = formatRecoveryKey(key);
  assert.match(text, /^([0-9A-HJKMNP-TV-Z]{4}-){12}[0-9A-HJKMNP-TV-Z]{4}$/);
  assert.deepEqual(parseRecoveryKey(text), key);
});

test('recovery key parse forgives case, spacing and I/L/O', () => {
  const key = Uint8Array.from({ length: 32 }, (_, i) => i * 8 + 1);
  const text = formatRecoveryKey(key);
  const sloppy = ` ${text.toLowerCase().replace(/-/g, ' ').replace(/1/g, 'l').replace(/0/g, 'o')} `;
  assert.deepEqual(parseRecoveryKey(sloppy), key);
});

test('recovery key parse refuses wrong length, characters and padding', () => {
  const text = formatRecoveryKey(new Uint8Array(32));
  assert.throws(() => parseRecoveryKey(text.slice(0, -1)), /length/);
  assert.throws(() => parseRecoveryKey(text + '0'), /length/);
  assert.throws(() => parseRecoveryKey('U' + text.slice(1)), /invalid character/);
  assert.throws(() => parseRecoveryKey(text.slice(0, -1) + '1'), /padding/);
});

test('recovery wrap has via: recovery and unwraps to the same card_key', async () => {
  const rk = generateRecoveryKey();
  const jwe = await wrapCardKeyForRecovery(rk, cardKey);
  const header = JSON.parse(Buffer.from(jwe.split('.')[0], 'base64url').toString());
  assert.deepEqual(header, { alg: 'dir', enc: 'A256GCM', cty: 'card-key', v: 1, via: 'recovery' });
  const key = await unwrapCardKeyWithRecovery(rk, jwe);
  assert.equal(key.extractable, false);
  assert.equal((await decryptPersonalData(key, personal.jwe)).data.first_name, 'Иван');
});

test('recovery blob: wrong recovery key and wrong slot are refused', async () => {
  const rk = generateRecoveryKey();
  const jwe = await wrapCardKeyForRecovery(rk, cardKey);
  await assert.rejects(unwrapCardKeyWithRecovery(generateRecoveryKey(), jwe), /wrong key/);
  // A password-wrapped blob is not a recovery blob and vice versa.
  const wrapped = vectors.envelopes[0];
  await assert.rejects(unwrapCardKeyWithRecovery(rk, wrapped.jwe), /not via recovery/);
  await assert.rejects(unwrapCardKey(b64uDecode(wrapped.key), jwe), /recovery blob/);
});

test('password reset with the recovery key re-wraps the same card_key', async () => {
  const rk = generateRecoveryKey();
  const newEncKey = globalThis.crypto.getRandomValues(new Uint8Array(32));
  const fresh = await recoverWrappedCardKey(rk, await wrapCardKeyForRecovery(rk, cardKey), newEncKey);
  const { header, plaintext } = await openEnvelope(newEncKey, fresh, 'card-key');
  assert.equal(header.via, undefined);
  assert.deepEqual(plaintext, cardKey);
});

test('recovery auth and enc keys are distinct HKDF outputs', async () => {
  const rk = new Uint8Array(32);
  const auth = await recoveryAuthKey(rk);
  assert.equal(auth.length, 43);
  assert.equal(auth, await recoveryAuthKey(new Uint8Array(32)));
  assert.notEqual(auth, await recoveryAuthKey(new Uint8Array(32).fill(1)));
});

// PROTOCOL.md §1 email_norm against vectors-v1.json "email_norm", and §2 kdfEmail against
// "kdf_email". The Python SDK checks the same vectors (tests/cardcoop/test_protocol_vectors.py)
// and tests/cardcoop/test_email_parity.py compares both implementations on generated input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { vectors } from './helpers/vectors.js';
import {
  InvalidEmailError,
  b64uEncode,
  deriveKeys,
  deriveKeysRaw,
  emailScript,
  kdfSaltEmail,
  normalizeEmail,
} from '../src/crypto/index.js';

for (const v of vectors.email_norm) {
  test(`email_norm: ${v.note}`, () => {
    if ('error' in v) {
      assert.equal(v.error, 'invalid_email');
      assert.throws(() => normalizeEmail(v.input), (err) => err instanceof InvalidEmailError && err.code === 'invalid_email');
    } else {
      assert.equal(normalizeEmail(v.input), v.output);
      assert.equal(normalizeEmail(v.output), v.output); // a fixed point
    }
  });
}

test('a mixed-script refusal says so (the form can tell the member which letter is wrong)', () => {
  assert.throws(() => normalizeEmail('iv\u0430n@example.com'), (err) => err instanceof InvalidEmailError && err.reason === 'mixed_script');
  assert.throws(() => normalizeEmail('ivan@exa_mple.com'), (err) => err instanceof InvalidEmailError && err.reason === 'domain');
  assert.throws(() => normalizeEmail('ivan'), (err) => err instanceof InvalidEmailError && err.reason === 'malformed');
});

test('scripts: the table and the neutral characters', () => {
  assert.equal(emailScript('a'), 'latin');
  assert.equal(emailScript('é'), 'latin');
  assert.equal(emailScript('ж'), 'cyrillic');
  assert.equal(emailScript('λ'), 'greek');
  assert.equal(emailScript('中'), 'other');
  for (const neutral of ['1', '.', '_', '+', '-', "'", '\u0301', '\u0661']) assert.equal(emailScript(neutral), null);
});

test('kdf_email: the legacy salt is used verbatim', async () => {
  const v = vectors.kdf_email[0];
  const kdf = { type: 'pbkdf2-sha256', iterations: v.iterations };
  assert.equal(kdfSaltEmail(v.email, v.kdfEmail), v.kdfEmail);
  const k = await deriveKeysRaw(v.password, v.email, v.serverSalt, kdf, { kdfEmail: v.kdfEmail });
  assert.equal(b64uEncode(k.masterKey), v.master_key);
  assert.equal(k.hashKeyB64u, v.hashKey);
  assert.equal(b64uEncode(k.encKey), v.enc_key);
  const plain = await deriveKeys(v.password, v.email, v.serverSalt, kdf);
  assert.notEqual(plain.hashKeyB64u, v.hashKey);
  assert.equal((await deriveKeys(v.password, v.email, v.serverSalt, kdf, { kdfEmail: null })).hashKeyB64u, plain.hashKeyB64u);
});

test('kdf_email: another address is refused before any derivation', async () => {
  const v = vectors.kdf_email[1];
  assert.equal(v.error, 'kdf_email_mismatch');
  assert.throws(() => kdfSaltEmail(v.email, v.kdfEmail), /not a form of this email/);
  assert.throws(() => kdfSaltEmail(v.email, 'not an address'), /not a form of this email/);
  assert.throws(() => kdfSaltEmail(v.email, /** @type {any} */ (42)), /not a form of this email/);
  const salt = vectors.kdf[0].serverSalt;
  await assert.rejects(deriveKeys('p', v.email, salt, { type: 'pbkdf2-sha256', iterations: 100000 }, { kdfEmail: v.kdfEmail }));
});

// PROTOCOL.md §2 key derivation against vectors-v1.json "kdf" and "decoy_salt".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { vectors } from './helpers/vectors.js';
import {
  b64uDecode,
  b64uEncode,
  checkKdfParams,
  decoySalt,
  deriveKeys,
  deriveKeysRaw,
  normalizeEmail,
  normalizePassword,
  wrapCardKey,
} from '../src/crypto/index.js';

for (const [i, v] of vectors.kdf.entries()) {
  const kdf = { type: 'pbkdf2-sha256', iterations: v.iterations };

  test(`kdf[${i}] email_norm`, () => {
    assert.equal(normalizeEmail(v.email), v.email_norm);
  });

  test(`kdf[${i}] raw master_key, hashKey, enc_key`, async () => {
    const k = await deriveKeysRaw(v.password, v.email, v.serverSalt, kdf);
    assert.equal(b64uEncode(k.masterKey), v.master_key);
    assert.equal(k.hashKeyB64u, v.hashKey);
    assert.equal(b64uEncode(k.hashKey), v.hashKey);
    assert.equal(k.hashKeyB64u.length, 43);
    assert.equal(b64uEncode(k.encKey), v.enc_key);
  });

  test(`kdf[${i}] deriveKeys gives hashKey and a non-extractable enc_key`, async () => {
    const k = await deriveKeys(v.password, v.email, v.serverSalt, kdf);
    assert.equal(k.hashKeyB64u, v.hashKey);
    assert.equal(k.encKey.extractable, false);
    assert.equal(k.encKey.algorithm.name, 'AES-GCM');
    assert.equal(k.encKey.algorithm.length, 256);
    assert.equal(k.masterKey.extractable, false);
    await assert.rejects(globalThis.crypto.subtle.exportKey('raw', k.encKey));
    // Same key as the vector: sealing with both under one IV gives identical bytes.
    const iv = new Uint8Array(12);
    const data = new Uint8Array(32).fill(7);
    assert.equal(await wrapCardKey(k.encKey, data, { iv }), await wrapCardKey(b64uDecode(v.enc_key), data, { iv }));
  });
}

test('NFKC folds the ligature of kdf[1] and leaves plain ASCII alone', () => {
  assert.equal(normalizePassword('Пароль ﬁ 2026'), 'Пароль fi 2026');
  assert.equal(normalizePassword('correct horse battery staple'), 'correct horse battery staple');
});

test('email strip follows Python str.strip(), not String#trim', () => {
  assert.equal(normalizeEmail('\u3000\x1cA@B.c\x85 \t'), 'a@b.c');
  assert.equal(normalizeEmail('\ufeffa@b.c'), '\ufeffa@b.c');
});

test('decoy_salt', async () => {
  const d = vectors.decoy_salt;
  assert.equal(await decoySalt(b64uDecode(d.server_secret), d.email), d.serverSalt);
  assert.equal(await decoySalt(b64uDecode(d.server_secret), ` ${d.email.toUpperCase()} `), d.serverSalt);
});

test('KDF parameters a server may not impose are refused', async () => {
  assert.throws(() => checkKdfParams({ type: 'pbkdf2-sha256', iterations: 99999 }));
  assert.throws(() => checkKdfParams({ type: 'pbkdf2-sha256', iterations: 1e5 + 0.5 }));
  assert.throws(() => checkKdfParams(/** @type {any} */ ({ type: 'argon2id', iterations: 600000 })));
  assert.equal(checkKdfParams({ type: 'pbkdf2-sha256', iterations: 100000 }), 100000);
  const v = vectors.kdf[0];
  await assert.rejects(deriveKeysRaw(v.password, v.email, v.serverSalt, { type: 'pbkdf2-sha256', iterations: 1000 }));
  await assert.rejects(deriveKeys(v.password, v.email, 'AAECAwQFBgcICQoLDA0O', { type: 'pbkdf2-sha256', iterations: 100000 }), /16 bytes/);
  await assert.rejects(deriveKeys(v.password, v.email, 'AAECAwQFBgcICQoLDA0ODw==', { type: 'pbkdf2-sha256', iterations: 100000 }));
});

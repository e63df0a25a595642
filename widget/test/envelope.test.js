// PROTOCOL.md §3 symmetric envelopes against vectors-v1.json "envelopes" and "card_key".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { vectors } from './helpers/vectors.js';
import {
  b64uDecode,
  b64uEncode,
  decryptAccount,
  decryptPersonalData,
  encryptAccount,
  encryptPersonalData,
  openEnvelope,
  rewrapCardKey,
  sealEnvelope,
  serializeHeader,
  unwrapCardKey,
  utf8Decode,
  utf8Encode,
  wrapCardKey,
} from '../src/crypto/index.js';

const byName = Object.fromEntries(vectors.envelopes.map((/** @type {any} */ v) => [v.name, v]));
const cardKey = b64uDecode(vectors.card_key);

/** @param {any} v */
const fieldsOf = (v) => {
  const { alg, enc, ...rest } = v.protected_header;
  assert.equal(alg, 'dir');
  assert.equal(enc, 'A256GCM');
  return rest;
};

for (const v of vectors.envelopes) {
  test(`envelope ${v.name}: sealEnvelope reproduces the JWE`, async () => {
    const jwe = await sealEnvelope(b64uDecode(v.key), b64uDecode(v.plaintext_b64u), fieldsOf(v), { iv: b64uDecode(v.iv) });
    assert.equal(jwe, v.jwe);
    assert.equal(jwe.split('.')[0], b64uEncode(utf8Encode(serializeHeader(v.protected_header))));
  });

  test(`envelope ${v.name}: openEnvelope returns header and plaintext`, async () => {
    const { header, plaintext } = await openEnvelope(b64uDecode(v.key), v.jwe, v.protected_header.cty);
    assert.deepEqual(header, v.protected_header);
    assert.equal(b64uEncode(plaintext), v.plaintext_b64u);
  });
}

test('card_key: wrapCardKey under enc_key reproduces wrapped_card_key', async () => {
  const v = byName.wrapped_card_key;
  assert.equal(v.plaintext_b64u, vectors.card_key);
  assert.equal(v.key, vectors.kdf[0].enc_key);
  assert.equal(await wrapCardKey(b64uDecode(v.key), cardKey, { iv: b64uDecode(v.iv) }), v.jwe);
});

test('card_key: unwrapCardKey gives a non-extractable key that opens the data blobs', async () => {
  const key = await unwrapCardKey(b64uDecode(byName.wrapped_card_key.key), byName.wrapped_card_key.jwe);
  assert.equal(key.extractable, false);
  assert.equal(key.algorithm.name, 'AES-GCM');
  await assert.rejects(globalThis.crypto.subtle.exportKey('raw', key));
  const pd = await decryptPersonalData(key, byName.encrypted_personal_data.jwe);
  assert.equal(pd.schema, 'card.coop/schema/v1');
  assert.equal(pd.data.last_name, 'Иванов');
  // Also when the wrapping key may not unwrapKey (decrypt + import path).
  const encOnly = await globalThis.crypto.subtle.importKey('raw', b64uDecode(byName.wrapped_card_key.key), 'AES-GCM', false, ['decrypt']);
  const key2 = await unwrapCardKey(encOnly, byName.wrapped_card_key.jwe);
  assert.equal(key2.extractable, false);
  assert.equal((await decryptAccount(key2, byName.encrypted_account.jwe)).username, 'abcdefghijkl');
});

test('encryptPersonalData / decryptPersonalData reproduce the vector', async () => {
  const v = byName.encrypted_personal_data;
  const data = JSON.parse(utf8Decode(b64uDecode(v.plaintext_b64u)));
  assert.equal(await encryptPersonalData(cardKey, data, v.protected_header.schema, { iv: b64uDecode(v.iv) }), v.jwe);
  assert.deepEqual(await decryptPersonalData(cardKey, v.jwe), { schema: v.protected_header.schema, data });
});

test('encryptAccount / decryptAccount reproduce the vector', async () => {
  const v = byName.encrypted_account;
  const account = JSON.parse(utf8Decode(b64uDecode(v.plaintext_b64u)));
  // Member order must not depend on the caller's object.
  const shuffled = { public_key: account.public_key, private_key: account.private_key, username: account.username, coopname: account.coopname };
  assert.equal(await encryptAccount(cardKey, shuffled, { iv: b64uDecode(v.iv) }), v.jwe);
  assert.deepEqual(await decryptAccount(cardKey, v.jwe, 'exampleCoop'), account);
  await assert.rejects(decryptAccount(cardKey, v.jwe, 'otherCoop'), /another cooperative/);
});

test('password change re-wraps the same card_key', async () => {
  const oldKey = b64uDecode(byName.wrapped_card_key.key);
  const newKey = globalThis.crypto.getRandomValues(new Uint8Array(32));
  const rewrapped = await rewrapCardKey(oldKey, byName.wrapped_card_key.jwe, newKey);
  const { plaintext } = await openEnvelope(newKey, rewrapped, 'card-key');
  assert.deepEqual(plaintext, cardKey);
  await assert.rejects(openEnvelope(oldKey, rewrapped, 'card-key'), /wrong key/);
});

test('random IVs differ between two seals', async () => {
  const a = await sealEnvelope(cardKey, utf8Encode('x'), { cty: 'card-key', v: 1 });
  const b = await sealEnvelope(cardKey, utf8Encode('x'), { cty: 'card-key', v: 1 });
  assert.notEqual(a.split('.')[2], b.split('.')[2]);
});

// ---- failure cases -------------------------------------------------------------------------

/**
 * @param {string} jwe
 * @param {number} part
 * @param {(s: string) => string} f
 */
const editPart = (jwe, part, f) => jwe.split('.').map((p, i) => (i === part ? f(p) : p)).join('.');
/** flip the first character of a base64url string to another valid one */
const flip = (/** @type {string} */ s) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);

test('tampered ciphertext, tag or IV is refused', async () => {
  const v = byName.encrypted_personal_data;
  for (const part of [2, 3, 4]) {
    await assert.rejects(openEnvelope(cardKey, editPart(v.jwe, part, flip), v.protected_header.cty), /tampered/);
  }
});

test('a tampered header is refused (it is the AAD)', async () => {
  const v = byName.encrypted_personal_data;
  const header = { ...v.protected_header, schema: 'card.coop/schema/v2' };
  const forged = editPart(v.jwe, 0, () => b64uEncode(utf8Encode(JSON.stringify(header))));
  await assert.rejects(openEnvelope(cardKey, forged, 'personal-data+json'), /tampered/);
  // Same members, another order: still a different AAD.
  const reordered = { cty: header.cty, alg: 'dir', enc: 'A256GCM', v: 1, schema: v.protected_header.schema };
  const forged2 = editPart(v.jwe, 0, () => b64uEncode(utf8Encode(JSON.stringify(reordered))));
  await assert.rejects(openEnvelope(cardKey, forged2, 'personal-data+json'), /tampered/);
});

test('a blob is refused in another slot (wrong cty)', async () => {
  await assert.rejects(openEnvelope(cardKey, byName.encrypted_account.jwe, 'personal-data+json'), /expected personal-data\+json/);
  await assert.rejects(decryptPersonalData(cardKey, byName.encrypted_account.jwe), /coop-account\+json/);
  await assert.rejects(decryptAccount(cardKey, byName.encrypted_personal_data.jwe), /expected coop-account/);
  await assert.rejects(unwrapCardKey(cardKey, byName.encrypted_account.jwe), /expected card-key/);
});

test('wrong key is refused', async () => {
  const wrong = new Uint8Array(32).fill(1);
  await assert.rejects(decryptPersonalData(wrong, byName.encrypted_personal_data.jwe), /wrong key/);
  await assert.rejects(unwrapCardKey(wrong, byName.wrapped_card_key.jwe), /wrong key/);
});

test('malformed envelopes and headers are refused', async () => {
  const v = byName.wrapped_card_key;
  const key = b64uDecode(v.key);
  await assert.rejects(openEnvelope(key, v.jwe.split('.').slice(0, 4).join('.'), 'card-key'), /5 parts/);
  await assert.rejects(openEnvelope(key, editPart(v.jwe, 1, () => 'AAAA'), 'card-key'), /empty encrypted key/);
  await assert.rejects(openEnvelope(key, editPart(v.jwe, 2, () => 'AAECAwQFBgcICQ'), 'card-key'), /IV/);
  /** @param {object} h */
  const withHeader = (h) => editPart(v.jwe, 0, () => b64uEncode(utf8Encode(JSON.stringify(h))));
  await assert.rejects(openEnvelope(key, withHeader({ alg: 'A256KW', enc: 'A256GCM', cty: 'card-key', v: 1 }), 'card-key'), /dir\/A256GCM/);
  await assert.rejects(openEnvelope(key, withHeader({ alg: 'dir', enc: 'A128GCM', cty: 'card-key', v: 1 }), 'card-key'), /dir\/A256GCM/);
  await assert.rejects(openEnvelope(key, withHeader({ alg: 'dir', enc: 'A256GCM', cty: 'card-key', v: 2 }), 'card-key'), /version/);
  await assert.rejects(openEnvelope(key, withHeader({ alg: 'dir', enc: 'A256GCM', cty: 'card-key', v: 1, crit: ['x'] }), 'card-key'), /crit/);
  await assert.rejects(openEnvelope(key, editPart(v.jwe, 0, () => 'bm90IGpzb24'), 'card-key'), /JSON/);
  await assert.rejects(sealEnvelope(key, new Uint8Array(1), { alg: 'none', cty: 'x' }), /fixed/);
  await assert.rejects(sealEnvelope(key, new Uint8Array(1), { v: 1 }), /cty/);
  await assert.rejects(sealEnvelope(new Uint8Array(16), new Uint8Array(1), { cty: 'x' }), /32 bytes/);
});

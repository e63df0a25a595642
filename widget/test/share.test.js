// PROTOCOL.md §6 sharing: ECDH-ES+A256KW / A256GCM JWE against vectors-v1.json "share".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { vectors } from './helpers/vectors.js';
import {
  b64uDecode,
  b64uEncode,
  concatKdf,
  decryptShare,
  encryptShare,
  generateKeyPair,
  hexDecode,
  jwkThumbprint,
  serializeHeader,
  toPrivateJwk,
  utf8Encode,
} from '../src/crypto/index.js';

/** @param {any} v */
const fixed = (v) => ({ ephemeralPrivateKey: hexDecode(v.ephemeral_d_hex), cek: b64uDecode(v.cek), iv: b64uDecode(v.iv) });

for (const [i, v] of vectors.share.entries()) {
  const crv = v.recipient_jwk.crv;

  test(`share[${i}] (${crv}) encryptShare to the JWK reproduces the JWE`, async () => {
    const jwe = await encryptShare(v.recipient_jwk, b64uDecode(v.plaintext_b64u), fixed(v));
    assert.equal(jwe, v.jwe);
    assert.equal(jwe.split('.')[0], b64uEncode(utf8Encode(serializeHeader(v.protected_header))));
    assert.equal(await jwkThumbprint(v.recipient_jwk), v.protected_header.kid);
  });

  if (v.recipient_public_key) {
    test(`share[${i}] (${crv}) encryptShare to the PUB_K1_ string reproduces the JWE`, async () => {
      assert.equal(await encryptShare(v.recipient_public_key, b64uDecode(v.plaintext_b64u), fixed(v)), v.jwe);
      const legacy = vectors.k1.find((/** @type {any} */ k) => k.public_key === v.recipient_public_key).legacy_public_key;
      assert.equal(await encryptShare(legacy, b64uDecode(v.plaintext_b64u), fixed(v)), v.jwe);
    });
  }

  test(`share[${i}] (${crv}) decryptShare returns the plaintext`, async () => {
    assert.equal(b64uEncode(await decryptShare(v.jwe, v.recipient_private_jwk)), v.plaintext_b64u);
  });

  test(`share[${i}] (${crv}) random ephemeral key, CEK and IV round trip`, async () => {
    const payload = { v: 1, data: { last_name: 'Иванов' } };
    const a = await encryptShare(v.recipient_jwk, payload);
    const b = await encryptShare(v.recipient_jwk, payload);
    assert.notEqual(a, b);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(await decryptShare(a, v.recipient_private_jwk))), payload);
  });
}

test('share to a K1 key decrypts with the PVT_K1_ string', async () => {
  const v = vectors.share[0];
  const k1 = vectors.k1.find((/** @type {any} */ k) => k.public_key === v.recipient_public_key);
  assert.equal(b64uEncode(await decryptShare(v.jwe, k1.private_key)), v.plaintext_b64u);
  assert.equal(b64uEncode(await decryptShare(v.jwe, k1.wif)), v.plaintext_b64u);
});

test('Concat KDF: RFC 7518 Appendix C known answer', async () => {
  // ECDH-ES direct, enc A128GCM, apu "Alice", apv "Bob": the example of RFC 7518 Appendix C.
  const z = Uint8Array.from([158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156, 251, 49, 110, 163, 218, 128, 106, 72, 246, 218, 167, 121, 140, 254, 144, 196]);
  const key = await concatKdf(z, 'A128GCM', 128, utf8Encode('Alice'), utf8Encode('Bob'));
  assert.equal(b64uEncode(key), 'VqqN6vgjbSBcIijNcacQGg');
});

// ---- failure cases -------------------------------------------------------------------------

const v0 = vectors.share[0];
/**
 * @param {string} jwe
 * @param {number} part
 * @param {(s: string) => string} f
 */
const editPart = (jwe, part, f) => jwe.split('.').map((p, i) => (i === part ? f(p) : p)).join('.');
const flip = (/** @type {string} */ s) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
/** @param {object} h */
const withHeader = (h) => editPart(v0.jwe, 0, () => b64uEncode(utf8Encode(JSON.stringify(h))));

test('tampered share parts are refused', async () => {
  for (const part of [1, 2, 3, 4]) {
    await assert.rejects(decryptShare(editPart(v0.jwe, part, flip), v0.recipient_private_jwk), /tampered/);
  }
  const h = { ...v0.protected_header, cty: 'card-share+json', kid: v0.protected_header.kid };
  const reordered = { cty: h.cty, ...h };
  await assert.rejects(decryptShare(withHeader(reordered), v0.recipient_private_jwk), /tampered/);
});

test('wrong cty, alg or enc is refused', async () => {
  await assert.rejects(decryptShare(withHeader({ ...v0.protected_header, cty: 'personal-data+json' }), v0.recipient_private_jwk), /expected card-share\+json/);
  await assert.rejects(decryptShare(withHeader({ ...v0.protected_header, alg: 'ECDH-ES' }), v0.recipient_private_jwk), /ECDH-ES\+A256KW/);
  await assert.rejects(decryptShare(withHeader({ ...v0.protected_header, enc: 'A128GCM' }), v0.recipient_private_jwk), /A256GCM/);
});

test('wrong key is refused: kid names another key, or the kid is absent', async () => {
  const other = toPrivateJwk(generateKeyPair().privateKey);
  await assert.rejects(decryptShare(v0.jwe, other), /kid mismatch/);
  const { kid, ...noKid } = v0.protected_header;
  assert.ok(kid);
  await assert.rejects(decryptShare(withHeader(noKid), other), /wrong key/);
  await assert.rejects(decryptShare(v0.jwe, vectors.share[1].recipient_private_jwk), /kid mismatch|curve/);
});

test('an epk off the curve or on another curve is refused (RFC 8725 §3.4)', async () => {
  const epk = { ...v0.protected_header.epk, y: v0.protected_header.epk.x };
  await assert.rejects(decryptShare(withHeader({ ...v0.protected_header, epk }), v0.recipient_private_jwk));
  const p256epk = vectors.share[1].protected_header.epk;
  await assert.rejects(decryptShare(withHeader({ ...v0.protected_header, epk: p256epk }), v0.recipient_private_jwk), /curve/);
});

test('unsupported recipients are refused', async () => {
  await assert.rejects(encryptShare({ kty: 'EC', crv: 'P-384', x: 'AA', y: 'AA' }, new Uint8Array(1)), /unsupported curve/);
  await assert.rejects(encryptShare(/** @type {any} */ ({ kty: 'OKP', crv: 'X25519', x: 'AA' }), new Uint8Array(1)), /EC JWK/);
  await assert.rejects(encryptShare('PUB_K1_1111', new Uint8Array(1)), /length|checksum/);
  const bad = { ...v0.recipient_jwk, y: v0.recipient_jwk.x };
  await assert.rejects(encryptShare(bad, new Uint8Array(1)));
});

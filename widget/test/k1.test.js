// PROTOCOL.md §5 Antelope K1 keys and names against vectors-v1.json "k1".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { vectors } from './helpers/vectors.js';
import {
  base58Decode,
  base58Encode,
  formatLegacyPublicKey,
  formatPrivateKey,
  formatPublicKey,
  formatWif,
  generateKeyPair,
  generateUsername,
  hexDecode,
  hexEncode,
  isValidAntelopeName,
  jwkThumbprint,
  jwkToPublicKey,
  parsePrivateKey,
  parsePublicKey,
  publicKeyOf,
  toJwk,
  toPrivateJwk,
} from '../src/crypto/index.js';

for (const [i, v] of vectors.k1.entries()) {
  const d = hexDecode(v.d_hex);

  test(`k1[${i}] private key strings`, () => {
    assert.equal(formatPrivateKey(d), v.private_key);
    assert.equal(formatWif(d), v.wif);
    assert.equal(hexEncode(parsePrivateKey(v.private_key)), v.d_hex);
    assert.equal(hexEncode(parsePrivateKey(v.wif)), v.d_hex);
  });

  test(`k1[${i}] public key strings`, () => {
    assert.equal(publicKeyOf(d), v.public_key);
    assert.equal(publicKeyOf(v.wif), v.public_key);
    const point = parsePublicKey(v.public_key);
    assert.equal(point.length, 33);
    assert.deepEqual(parsePublicKey(v.legacy_public_key), point);
    assert.equal(formatPublicKey(point), v.public_key);
    assert.equal(formatLegacyPublicKey(point), v.legacy_public_key);
  });

  test(`k1[${i}] JWKs (same member order as the vector) and RFC 7638 thumbprint`, async () => {
    assert.equal(JSON.stringify(toJwk(v.public_key)), JSON.stringify(v.jwk));
    assert.equal(JSON.stringify(toJwk(v.legacy_public_key)), JSON.stringify(v.jwk));
    assert.equal(JSON.stringify(toPrivateJwk(v.private_key)), JSON.stringify(v.private_jwk));
    assert.equal(JSON.stringify(toPrivateJwk(d)), JSON.stringify(v.private_jwk));
    assert.equal(jwkToPublicKey(v.jwk), v.public_key);
    assert.equal(await jwkThumbprint(v.jwk), v.jwk_thumbprint);
    assert.equal(await jwkThumbprint(v.private_jwk), v.jwk_thumbprint);
  });
}

test('RFC 7638 §3.1 example thumbprint (RSA)', async () => {
  const jwk = {
    kty: 'RSA',
    e: 'AQAB',
    alg: 'RS256',
    kid: '2011-04-29',
    n:
      '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
  };
  assert.equal(await jwkThumbprint(jwk), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
});

test('bad K1 checksums are refused', () => {
  const v = vectors.k1[0];
  /** change the last base58 character to another valid one */
  const mutate = (/** @type {string} */ s) => s.slice(0, -1) + (s.endsWith('2') ? '3' : '2');
  assert.throws(() => parsePrivateKey(mutate(v.private_key)), /checksum/);
  assert.throws(() => parsePrivateKey(mutate(v.wif)), /checksum/);
  assert.throws(() => parsePublicKey(mutate(v.public_key)), /checksum/);
  assert.throws(() => parsePublicKey(mutate(v.legacy_public_key)), /checksum/);
  // The K1 and legacy checksums differ: a legacy body under the PUB_K1_ prefix is refused.
  assert.throws(() => parsePublicKey('PUB_K1_' + v.legacy_public_key.slice(3)), /checksum/);
  assert.throws(() => parsePublicKey('EOS' + v.public_key.slice(7)), /checksum/);
});

test('malformed K1 strings are refused', () => {
  const v = vectors.k1[0];
  assert.throws(() => parsePrivateKey('PVT_R1_' + v.private_key.slice(7)), /only K1/);
  assert.throws(() => parsePublicKey('PUB_R1_' + v.public_key.slice(7)), /unsupported/);
  assert.throws(() => parsePrivateKey(v.private_key.slice(0, -2)), /length|checksum/);
  assert.throws(() => parsePublicKey('PUB_K1_0' + v.public_key.slice(8)), /base58/);
  // Scalar 0 and the group order n are not private keys, even with a correct checksum.
  assert.throws(() => formatPrivateKey(new Uint8Array(32)), /scalar/);
  const n = hexDecode('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141');
  assert.throws(() => formatPrivateKey(n), /scalar/);
  // A WIF with the wrong version byte but a valid checksum.
  const wifRaw = base58Decode(v.wif);
  const body = Uint8Array.of(0x81, ...wifRaw.subarray(1, 33));
  assert.throws(() => parsePrivateKey(base58Encode(Uint8Array.of(...body, 0, 0, 0, 0))), /checksum/);
});

test('an off-curve point is refused even with a valid checksum', () => {
  // x = 5 has no point on secp256k1 (5^3 + 7 = 132 is not a square mod p).
  const bad = new Uint8Array(33);
  bad[0] = 2;
  bad[32] = 5;
  assert.throws(() => formatPublicKey(bad));
});

test('generateKeyPair returns matching PVT_K1_/PUB_K1_ strings', () => {
  const a = generateKeyPair();
  const b = generateKeyPair();
  assert.match(a.privateKey, /^PVT_K1_[1-9A-HJ-NP-Za-km-z]+$/);
  assert.match(a.publicKey, /^PUB_K1_[1-9A-HJ-NP-Za-km-z]+$/);
  assert.equal(publicKeyOf(a.privateKey), a.publicKey);
  assert.notEqual(a.privateKey, b.privateKey);
});

test('generateUsername: 12 letters a-z, a valid Antelope name, not repeated', () => {
  const seen = new Set();
  for (let i = 0; i < 200; i++) {
    const name = generateUsername();
    assert.match(name, /^[a-z]{12}$/);
    assert.ok(isValidAntelopeName(name));
    seen.add(name);
  }
  assert.equal(seen.size, 200);
});

test('isValidAntelopeName', () => {
  for (const ok of ['abcdefghijkl', 'eosio', 'a', 'eosio.token', 'a1b2c3d4e5', 'abcdefghijklj', 'abcdefghijkl1']) {
    assert.ok(isValidAntelopeName(ok), ok);
  }
  for (const bad of ['', 'Abc', 'abc6', 'abc0', 'abc.', 'abcdefghijklk', 'abcdefghijklmn', 'abc-def', 'exampleCoop', 'abcdefghijkl.']) {
    assert.ok(!isValidAntelopeName(bad), bad);
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { b64uDecode, b64uEncode, base58Decode, base58Encode, hexDecode, serializeHeader } from '../src/crypto/index.js';
import * as noble from '../src/crypto/noble.js';

test('b64u round trip and strict decoding (RFC 4648 §5, no padding)', () => {
  for (let n = 0; n < 40; n++) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
    assert.deepEqual(b64uDecode(b64uEncode(bytes)), bytes);
  }
  assert.equal(b64uEncode(Uint8Array.of(0xfb, 0xff)), '-_8');
  assert.throws(() => b64uDecode('-_8='), /base64url/);
  assert.throws(() => b64uDecode('+/8'), /base64url/);
  assert.throws(() => b64uDecode('A'), /base64url/);
  assert.throws(() => b64uDecode('-_9'), /non-canonical/);
});

test('base58 keeps leading zero bytes as 1s', () => {
  const bytes = Uint8Array.of(0, 0, 1, 2, 255);
  assert.equal(base58Encode(bytes).slice(0, 2), '11');
  assert.deepEqual(base58Decode(base58Encode(bytes)), bytes);
  assert.equal(base58Encode(hexDecode('0000287fb4cd')), '11233QC4');
  assert.throws(() => base58Decode('0OIl'), /base58/);
});

test('header serialization: alg, enc, the rest as given, epk last, compact', () => {
  const s = serializeHeader({ epk: { kty: 'EC', crv: 'P-256' }, cty: 'x', enc: 'A256GCM', kid: 'k', alg: 'dir' });
  assert.equal(s, '{"alg":"dir","enc":"A256GCM","cty":"x","kid":"k","epk":{"kty":"EC","crv":"P-256"}}');
});

test('src/crypto/noble.js exposes exactly the bundled vendor pieces', () => {
  assert.deepEqual(Object.keys(noble).sort(), ['p256', 'punycodeDecode', 'punycodeEncode', 'ripemd160', 'secp256k1', 'sha256']);
});

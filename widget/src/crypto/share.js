// Sharing data with a cooperative (PROTOCOL.md §6): a compact JWE with "alg": "ECDH-ES+A256KW"
// (RFC 7518 §4.6) and "enc": "A256GCM" (RFC 7518 §5.3), "kid" = RFC 7638 thumbprint of the
// recipient JWK, "cty": "card-share+json". Any JOSE library decrypts it with the cooperative's key.
//
// The ECDH itself comes from noble (WebCrypto has no secp256k1; for P-256 noble is used too, so a
// fixed ephemeral scalar, needed by the vectors, works the same way for both curves). The Concat
// KDF hashes with WebCrypto SHA-256 and the CEK is wrapped with WebCrypto AES-KW (RFC 3394).
import { p256, secp256k1 } from './noble.js';
import { b64uDecode, b64uEncode, concatBytes, encodeHeader, parseCompactJwe, utf8Encode } from './encoding.js';
import { jwkThumbprint, toJwk, toPrivateJwk } from './k1.js';

const subtle = globalThis.crypto.subtle;
const ALG = 'ECDH-ES+A256KW';
const ENC = 'A256GCM';
export const SHARE_CTY = 'card-share+json';
const CURVES = /** @type {Record<string, typeof secp256k1>} */ ({ secp256k1, 'P-256': p256 });

/** @typedef {import('./k1.js').EcJwk} EcJwk */

/**
 * @param {string} crv
 */
function curveOf(crv) {
  const curve = CURVES[crv];
  if (!curve) throw new Error(`unsupported curve ${crv} (secp256k1 or P-256)`);
  return curve;
}

/**
 * Public point of an EC JWK as uncompressed SEC1 bytes, checked to lie on the curve: RFC 8725
 * §3.4 (an off-curve point would let the peer learn our private key, the "invalid curve" attack).
 * @param {EcJwk} jwk
 * @returns {Uint8Array}
 */
function jwkPoint(jwk) {
  if (jwk?.kty !== 'EC') throw new Error('recipient must be an EC JWK');
  const curve = curveOf(jwk.crv);
  const x = b64uDecode(jwk.x);
  const y = b64uDecode(jwk.y);
  if (x.length !== 32 || y.length !== 32) throw new Error('EC JWK coordinates must be 32 bytes');
  return curve.Point.fromBytes(concatBytes(Uint8Array.of(4), x, y)).toBytes(false);
}

/**
 * 32-bit big-endian length/counter field (RFC 7518 §4.6.2).
 * @param {number} n
 */
function u32(n) {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

/**
 * @param {Uint8Array} data
 */
const lenPrefixed = (data) => concatBytes(u32(data.length), data);

/**
 * Concat KDF of NIST SP 800-56A §5.8.1 as profiled by RFC 7518 §4.6.2: rounds of
 * SHA-256(counter || Z || AlgorithmID || PartyUInfo || PartyVInfo || SuppPubInfo), where
 * AlgorithmID is the "alg" value (key agreement with key wrapping) and SuppPubInfo the key
 * length in bits.
 * @param {Uint8Array} z shared secret (x coordinate)
 * @param {string} alg
 * @param {number} keyBits
 * @param {Uint8Array} apu
 * @param {Uint8Array} apv
 * @returns {Promise<Uint8Array>}
 */
export async function concatKdf(z, alg, keyBits, apu = new Uint8Array(0), apv = new Uint8Array(0)) {
  const otherInfo = concatBytes(lenPrefixed(utf8Encode(alg)), lenPrefixed(apu), lenPrefixed(apv), u32(keyBits));
  const rounds = Math.ceil(keyBits / 256);
  const parts = [];
  for (let i = 1; i <= rounds; i++) {
    parts.push(new Uint8Array(await subtle.digest('SHA-256', concatBytes(u32(i), z, otherInfo))));
  }
  return concatBytes(...parts).subarray(0, keyBits / 8);
}

/**
 * ECDH Z: the x coordinate of d·Q (RFC 7518 §4.6.2 "Z"; SEC 1 §3.3.1).
 * @param {string} crv
 * @param {Uint8Array} d
 * @param {Uint8Array} point uncompressed SEC1
 */
function ecdhZ(crv, d, point) {
  return curveOf(crv).getSharedSecret(d, point, true).slice(1);
}

/**
 * @param {Uint8Array} z
 * @param {Uint8Array} apu
 * @param {Uint8Array} apv
 * @param {KeyUsage} usage
 */
async function kek(z, apu, apv, usage) {
  const bytes = await concatKdf(z, ALG, 256, apu, apv);
  try {
    return await subtle.importKey('raw', bytes, 'AES-KW', false, [usage]);
  } finally {
    bytes.fill(0);
    z.fill(0);
  }
}

/**
 * Encrypt to a cooperative. `opts` fixes the ephemeral scalar, CEK and IV for the test vectors
 * only; in production all three must be fresh (RFC 7518 §4.6: a new ephemeral key per message).
 * @param {EcJwk | string} recipient EC JWK (secp256k1 or P-256) or a PUB_K1_/EOS key string
 * @param {Uint8Array | object} plaintext bytes, or an object serialized with JSON.stringify
 * @param {{ephemeralPrivateKey?: Uint8Array, cek?: Uint8Array, iv?: Uint8Array}} [opts]
 * @returns {Promise<string>}
 */
export async function encryptShare(recipient, plaintext, opts = {}) {
  const r = typeof recipient === 'string' ? toJwk(recipient) : recipient;
  const jwk = /** @type {EcJwk} */ ({ kty: r.kty, crv: r.crv, x: r.x, y: r.y }); // public part only
  const point = jwkPoint(jwk);
  const curve = curveOf(jwk.crv);
  const d = opts.ephemeralPrivateKey ?? curve.utils.randomSecretKey();
  if (!curve.utils.isValidSecretKey(d)) throw new Error('invalid ephemeral private key');
  const cek = opts.cek ?? globalThis.crypto.getRandomValues(new Uint8Array(32));
  const iv = opts.iv ?? globalThis.crypto.getRandomValues(new Uint8Array(12));
  if (cek.length !== 32 || iv.length !== 12) throw new Error('A256GCM needs a 32-byte CEK and a 12-byte IV');
  try {
    const e = curve.getPublicKey(d, false);
    const epk = { kty: 'EC', crv: jwk.crv, x: b64uEncode(e.subarray(1, 33)), y: b64uEncode(e.subarray(33)) };
    const header = { alg: ALG, enc: ENC, kid: await jwkThumbprint(jwk), cty: SHARE_CTY, epk };
    const wrapping = await kek(ecdhZ(jwk.crv, d, point), new Uint8Array(0), new Uint8Array(0), 'wrapKey');
    // Extractable only so AES-KW can wrap it (WebCrypto wrapKey requires it); it dies here.
    const cekKey = await subtle.importKey('raw', cek, 'AES-GCM', true, ['encrypt']);
    const encryptedKey = new Uint8Array(await subtle.wrapKey('raw', cekKey, wrapping, 'AES-KW'));
    const h = encodeHeader(header);
    const bytes = plaintext instanceof Uint8Array ? plaintext : utf8Encode(JSON.stringify(plaintext));
    const params = { name: 'AES-GCM', iv, additionalData: utf8Encode(h), tagLength: 128 };
    const sealed = new Uint8Array(await subtle.encrypt(params, cekKey, bytes));
    const ct = sealed.subarray(0, sealed.length - 16);
    const tag = sealed.subarray(sealed.length - 16);
    return [h, b64uEncode(encryptedKey), b64uEncode(iv), b64uEncode(ct), b64uEncode(tag)].join('.');
  } finally {
    if (!opts.ephemeralPrivateKey) d.fill(0);
    if (!opts.cek) cek.fill(0);
  }
}

/**
 * @param {EcJwk | string} privateKey private EC JWK (with d) or a PVT_K1_/WIF string
 * @returns {EcJwk & {d: string}}
 */
function privateJwk(privateKey) {
  if (typeof privateKey === 'string') return /** @type {any} */ (toPrivateJwk(privateKey));
  if (typeof privateKey?.d !== 'string') throw new Error('private JWK needs d');
  return /** @type {any} */ (privateKey);
}

/**
 * Decrypt a share JWE with the recipient's private key (for tests, the demo cooperative and
 * cooperatives without a JOSE library). Checks alg, enc, cty, that the kid (if any) names this
 * key, and that epk is on the key's curve.
 * @param {string} jwe
 * @param {EcJwk | string} privateKey private EC JWK or PVT_K1_/WIF string
 * @returns {Promise<Uint8Array>} the plaintext
 */
export async function decryptShare(jwe, privateKey) {
  const jwk = privateJwk(privateKey);
  const curve = curveOf(jwk.crv);
  const d = b64uDecode(jwk.d);
  if (!curve.utils.isValidSecretKey(d)) throw new Error('invalid private key');
  const pub = curve.getPublicKey(d, false);
  const publicJwk = { kty: 'EC', crv: jwk.crv, x: b64uEncode(pub.subarray(1, 33)), y: b64uEncode(pub.subarray(33)) };
  const p = parseCompactJwe(jwe);
  const { header } = p;
  if (header.alg !== ALG || header.enc !== ENC) throw new Error(`share must be ${ALG}/${ENC}`);
  if ('crit' in header || 'zip' in header) throw new Error('unsupported crit/zip header');
  if (header.cty !== SHARE_CTY) throw new Error(`share holds ${String(header.cty)}, expected ${SHARE_CTY}`);
  if (header.kid !== undefined && header.kid !== (await jwkThumbprint(publicJwk))) {
    throw new Error('share is encrypted to another key (kid mismatch)');
  }
  if (header.epk?.crv !== jwk.crv) throw new Error('epk is not on the recipient curve');
  if (p.iv.length !== 12 || p.tag.length !== 16) throw new Error('bad A256GCM IV or tag length');
  const apu = header.apu === undefined ? new Uint8Array(0) : b64uDecode(header.apu);
  const apv = header.apv === undefined ? new Uint8Array(0) : b64uDecode(header.apv);
  const epkPoint = jwkPoint(header.epk);
  try {
    const unwrapping = await kek(ecdhZ(jwk.crv, d, epkPoint), apu, apv, 'unwrapKey');
    const cek = await subtle.unwrapKey('raw', p.encryptedKey, unwrapping, 'AES-KW', 'AES-GCM', false, ['decrypt']);
    const params = { name: 'AES-GCM', iv: p.iv, additionalData: p.aad, tagLength: 128 };
    return new Uint8Array(await subtle.decrypt(params, cek, concatBytes(p.ciphertext, p.tag)));
  } catch {
    throw new Error('share does not decrypt: wrong key or tampered data');
  } finally {
    d.fill(0);
  }
}

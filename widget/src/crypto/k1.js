// Antelope "K1" (secp256k1) keys and account names (PROTOCOL.md §5), with the string forms of
// the Antelope libraries:
//   PVT_K1_ + base58(d || ripemd160(d || "K1")[:4])            private key, d = 32-byte scalar
//   WIF       base58(0x80 || d || sha256(sha256(0x80 || d))[:4])   legacy private key (accepted)
//   PUB_K1_ + base58(P || ripemd160(P || "K1")[:4])            P = 33-byte compressed point
//   EOS     + base58(P || ripemd160(P)[:4])                     legacy public key (accepted)
// and their JWK form {"kty":"EC","crv":"secp256k1",x,y} (RFC 8812 §3.1) with the RFC 7638 thumbprint.
import { ripemd160, secp256k1, sha256 } from './noble.js';
import { b64uDecode, b64uEncode, base58Decode, base58Encode, bytesEqual, concatBytes, utf8Encode } from './encoding.js';

const K1_SUFFIX = utf8Encode('K1');
const WIF_VERSION = 0x80;

/**
 * @param {Uint8Array} payload
 * @param {boolean} k1 whether the checksum covers the "K1" key-type suffix (new forms) or not (EOS)
 * @returns {Uint8Array}
 */
function ripemdChecksum(payload, k1) {
  return ripemd160(k1 ? concatBytes(payload, K1_SUFFIX) : payload).subarray(0, 4);
}

/**
 * Base58-decode, split off the 4-byte checksum, verify it and the payload length.
 * @param {string} b58
 * @param {number} length payload bytes
 * @param {(payload: Uint8Array) => Uint8Array} checksum
 * @returns {Uint8Array}
 */
function decodeChecked(b58, length, checksum) {
  const raw = base58Decode(b58);
  if (raw.length !== length + 4) throw new Error('K1 key has the wrong length');
  const payload = raw.subarray(0, length);
  if (!bytesEqual(checksum(payload), raw.subarray(length))) throw new Error('K1 key checksum mismatch');
  return payload.slice();
}

/**
 * @param {Uint8Array} d
 * @returns {Uint8Array}
 */
function checkScalar(d) {
  if (!secp256k1.utils.isValidSecretKey(d)) throw new Error('not a valid secp256k1 private scalar');
  return d;
}

/**
 * Parse `PVT_K1_...` or a legacy WIF string into the 32-byte scalar, verifying the checksum.
 * @param {string} text
 * @returns {Uint8Array}
 */
export function parsePrivateKey(text) {
  if (typeof text !== 'string') throw new TypeError('private key must be a string');
  if (text.startsWith('PVT_K1_')) {
    return checkScalar(decodeChecked(text.slice(7), 32, (p) => ripemdChecksum(p, true)));
  }
  if (text.startsWith('PVT_')) throw new Error('unsupported private key type (only K1)');
  const wif = decodeChecked(text, 33, (p) => sha256(sha256(p)).subarray(0, 4));
  if (wif[0] !== WIF_VERSION) throw new Error('WIF private key must start with 0x80');
  return checkScalar(wif.slice(1));
}

/**
 * @param {Uint8Array} d 32-byte scalar
 * @returns {string} PVT_K1_...
 */
export function formatPrivateKey(d) {
  checkScalar(d);
  return 'PVT_K1_' + base58Encode(concatBytes(d, ripemdChecksum(d, true)));
}

/**
 * @param {Uint8Array} d 32-byte scalar
 * @returns {string} legacy WIF (5...)
 */
export function formatWif(d) {
  checkScalar(d);
  const payload = concatBytes(Uint8Array.of(WIF_VERSION), d);
  return base58Encode(concatBytes(payload, sha256(sha256(payload)).subarray(0, 4)));
}

/**
 * Parse `PUB_K1_...` or legacy `EOS...` into the 33-byte compressed point, verifying the
 * checksum and that the point is on the curve (SEC 1 §2.3.4).
 * @param {string} text
 * @returns {Uint8Array}
 */
export function parsePublicKey(text) {
  if (typeof text !== 'string') throw new TypeError('public key must be a string');
  let point;
  if (text.startsWith('PUB_K1_')) point = decodeChecked(text.slice(7), 33, (p) => ripemdChecksum(p, true));
  else if (text.startsWith('EOS')) point = decodeChecked(text.slice(3), 33, (p) => ripemdChecksum(p, false));
  else throw new Error('unsupported public key format (PUB_K1_ or EOS)');
  secp256k1.Point.fromBytes(point); // throws when off the curve
  return point;
}

/**
 * @param {Uint8Array} point 33-byte compressed (or 65-byte uncompressed) point
 * @returns {string} PUB_K1_...
 */
export function formatPublicKey(point) {
  const p = secp256k1.Point.fromBytes(point).toBytes(true);
  return 'PUB_K1_' + base58Encode(concatBytes(p, ripemdChecksum(p, true)));
}

/**
 * @param {Uint8Array} point
 * @returns {string} EOS...
 */
export function formatLegacyPublicKey(point) {
  const p = secp256k1.Point.fromBytes(point).toBytes(true);
  return 'EOS' + base58Encode(concatBytes(p, ripemdChecksum(p, false)));
}

/**
 * @param {string | Uint8Array} privateKey PVT_K1_/WIF string or 32-byte scalar
 * @returns {string} PUB_K1_...
 */
export function publicKeyOf(privateKey) {
  const d = typeof privateKey === 'string' ? parsePrivateKey(privateKey) : checkScalar(privateKey);
  return formatPublicKey(secp256k1.getPublicKey(d, true));
}

/**
 * A fresh K1 key pair from the platform CSPRNG (noble uses crypto.getRandomValues).
 * @returns {{privateKey: string, publicKey: string}}
 */
export function generateKeyPair() {
  const d = secp256k1.utils.randomSecretKey();
  try {
    return { privateKey: formatPrivateKey(d), publicKey: publicKeyOf(d) };
  } finally {
    d.fill(0);
  }
}

/**
 * @typedef {{kty: 'EC', crv: string, x: string, y: string, d?: string}} EcJwk
 */

/**
 * K1 public key → JWK (RFC 7518 §6.2.1; crv name from RFC 8812 §3.1). x and y are 32 bytes each,
 * left-padded (RFC 7518 §6.2.1.2).
 * @param {string | Uint8Array} publicKey PUB_K1_/EOS string or SEC1 point bytes
 * @returns {EcJwk}
 */
export function toJwk(publicKey) {
  const bytes = typeof publicKey === 'string' ? parsePublicKey(publicKey) : publicKey;
  const raw = secp256k1.Point.fromBytes(bytes).toBytes(false);
  return { kty: 'EC', crv: 'secp256k1', x: b64uEncode(raw.subarray(1, 33)), y: b64uEncode(raw.subarray(33)) };
}

/**
 * K1 private key → private JWK with `d` (RFC 7518 §6.2.2.1).
 * @param {string | Uint8Array} privateKey PVT_K1_/WIF string or 32-byte scalar
 * @returns {EcJwk}
 */
export function toPrivateJwk(privateKey) {
  const d = typeof privateKey === 'string' ? parsePrivateKey(privateKey) : checkScalar(privateKey);
  return { ...toJwk(secp256k1.getPublicKey(d, true)), d: b64uEncode(d) };
}

/**
 * secp256k1 JWK → PUB_K1_ string (e.g. to compare a registered JWK with the chain's key).
 * @param {EcJwk} jwk
 * @returns {string}
 */
export function jwkToPublicKey(jwk) {
  if (jwk.kty !== 'EC' || jwk.crv !== 'secp256k1') throw new Error('not a secp256k1 JWK');
  return formatPublicKey(concatBytes(Uint8Array.of(4), b64uDecode(jwk.x), b64uDecode(jwk.y)));
}

// RFC 7638 §3.2: only the required members, in lexicographic order, no whitespace.
const THUMBPRINT_MEMBERS = /** @type {Record<string, string[]>} */ ({
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  RSA: ['e', 'kty', 'n'],
});

/**
 * RFC 7638 JWK thumbprint with SHA-256, base64url.
 * @param {{kty: string} & Record<string, unknown>} jwk
 * @returns {Promise<string>}
 */
export async function jwkThumbprint(jwk) {
  const members = THUMBPRINT_MEMBERS[jwk.kty];
  if (!members) throw new Error(`no thumbprint rule for kty ${jwk.kty}`);
  /** @type {Record<string, unknown>} */
  const picked = {};
  for (const m of members) {
    if (typeof jwk[m] !== 'string') throw new Error(`JWK member ${m} missing`);
    picked[m] = jwk[m];
  }
  const digest = await globalThis.crypto.subtle.digest('SHA-256', utf8Encode(JSON.stringify(picked)));
  return b64uEncode(new Uint8Array(digest));
}

/**
 * A random 12-character a-z Antelope account name (PROTOCOL.md §5). Rejection sampling keeps
 * the 26 letters uniform: bytes >= 234 (= 9 * 26) are discarded.
 * @returns {string}
 */
export function generateUsername() {
  let name = '';
  while (name.length < 12) {
    for (const b of globalThis.crypto.getRandomValues(new Uint8Array(16))) {
      if (b < 234 && name.length < 12) name += String.fromCharCode(97 + (b % 26));
    }
  }
  return name;
}

/**
 * Antelope name rules (a name is a uint64: 12 symbols of 5 bits from ".12345a-z", and a 13th of
 * 4 bits from ".12345a-j"); a trailing '.' would not survive the round trip, so it is refused.
 * @param {string} name
 * @returns {boolean}
 */
export function isValidAntelopeName(name) {
  return typeof name === 'string' && /^[.1-5a-z]{0,11}[1-5a-z]$|^[.1-5a-z]{12}[1-5a-j]$/.test(name);
}

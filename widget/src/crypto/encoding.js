// Byte/string encodings shared by the protocol-v1 modules (PROTOCOL.md §1).
// Decoders are strict on purpose: a lenient decoder lets two different strings name the same
// bytes, which breaks "byte for byte" agreement with the Python SDK and hides corrupted input.

const B64U_RE = /^[A-Za-z0-9_-]*$/;
const UTF8_DECODER = new TextDecoder('utf-8', { fatal: true });
const UTF8_ENCODER = new TextEncoder();

/**
 * base64url without padding (RFC 4648 §5; RFC 7515 §2 "Base64url Encoding").
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function b64uEncode(bytes) {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * Decode base64url without padding. Rejects padding, foreign characters, impossible lengths
 * and non-canonical trailing bits (RFC 4648 §3.5), so each byte string has exactly one spelling.
 * @param {string} text
 * @returns {Uint8Array}
 */
export function b64uDecode(text) {
  if (typeof text !== 'string' || !B64U_RE.test(text) || text.length % 4 === 1) {
    throw new TypeError('invalid base64url');
  }
  const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  if (b64uEncode(out) !== text) throw new TypeError('non-canonical base64url');
  return out;
}

/**
 * @param {string} text
 * @returns {Uint8Array}
 */
export function utf8Encode(text) {
  return UTF8_ENCODER.encode(text);
}

/**
 * Strict UTF-8 decode: invalid sequences throw instead of becoming U+FFFD.
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function utf8Decode(bytes) {
  return UTF8_DECODER.decode(bytes);
}

/**
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function hexEncode(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * @param {string} hex
 * @returns {Uint8Array}
 */
export function hexDecode(hex) {
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new TypeError('invalid hex');
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * @param {...Uint8Array} parts
 * @returns {Uint8Array}
 */
export function concatBytes(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Constant-time for equal lengths; used for checksums, where timing would leak nothing secret,
 * but one comparison helper is simpler to audit than two.
 * @param {Uint8Array} a
 * @param {Uint8Array} b
 * @returns {boolean}
 */
export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/**
 * Serialize a JOSE protected header as compact JSON in the order PROTOCOL.md §1 fixes for the
 * vectors: `alg`, `enc`, then the other members as given, `epk` last. Nested objects (epk) keep
 * their own insertion order. Decoders accept any order (RFC 7516 §5.2 parses JSON).
 * @param {Record<string, unknown>} header
 * @returns {string}
 */
export function serializeHeader(header) {
  /** @type {Record<string, unknown>} */
  const ordered = {};
  for (const k of ['alg', 'enc']) if (k in header) ordered[k] = header[k];
  for (const [k, v] of Object.entries(header)) {
    if (k !== 'alg' && k !== 'enc' && k !== 'epk') ordered[k] = v;
  }
  if ('epk' in header) ordered.epk = header.epk;
  return JSON.stringify(ordered);
}

/**
 * Encode a protected header for a compact JWE: BASE64URL(UTF8(JSON)) (RFC 7516 §7.1).
 * @param {Record<string, unknown>} header
 * @returns {string}
 */
export function encodeHeader(header) {
  return b64uEncode(utf8Encode(serializeHeader(header)));
}

/**
 * Split a compact JWE into its five parts (RFC 7516 §7.1) and parse the protected header.
 * Binary parts are decoded; `aad` is the ASCII of the encoded header, which is the AES-GCM
 * additional authenticated data (RFC 7516 §5.1 step 14).
 * @param {string} jwe
 * @returns {{header: Record<string, any>, aad: Uint8Array, encryptedKey: Uint8Array,
 *   iv: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array}}
 */
export function parseCompactJwe(jwe) {
  if (typeof jwe !== 'string') throw new TypeError('JWE must be a string');
  const parts = jwe.split('.');
  if (parts.length !== 5) throw new TypeError('JWE compact serialization has 5 parts');
  const [h, k, iv, ct, tag] = parts;
  let header;
  try {
    header = JSON.parse(utf8Decode(b64uDecode(h)));
  } catch {
    throw new TypeError('JWE protected header is not base64url JSON');
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new TypeError('JWE protected header must be a JSON object');
  }
  return {
    header,
    aad: utf8Encode(h),
    encryptedKey: b64uDecode(k),
    iv: b64uDecode(iv),
    ciphertext: b64uDecode(ct),
    tag: b64uDecode(tag),
  };
}

const B58_ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const B58_INDEX = new Map([...B58_ALPHABET].map((c, i) => [c, i]));

/**
 * Bitcoin-alphabet base58, as used by Antelope key strings (PROTOCOL.md §5).
 * Leading zero bytes become leading '1's.
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function base58Encode(bytes) {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  /** @type {number[]} little-endian base-58 digits */
  const digits = [];
  for (let i = zeros; i < bytes.length; i++) {
    let carry = bytes[i];
    for (let j = 0; j < digits.length; j++) {
      carry += digits[j] << 8;
      digits[j] = carry % 58;
      carry = (carry / 58) | 0;
    }
    while (carry > 0) {
      digits.push(carry % 58);
      carry = (carry / 58) | 0;
    }
  }
  let out = '1'.repeat(zeros);
  for (let i = digits.length - 1; i >= 0; i--) out += B58_ALPHABET[digits[i]];
  return out;
}

/**
 * @param {string} text
 * @returns {Uint8Array}
 */
export function base58Decode(text) {
  if (typeof text !== 'string') throw new TypeError('invalid base58');
  let zeros = 0;
  while (zeros < text.length && text[zeros] === '1') zeros++;
  /** @type {number[]} little-endian bytes */
  const bytes = [];
  for (let i = zeros; i < text.length; i++) {
    const v = B58_INDEX.get(text[i]);
    if (v === undefined) throw new TypeError('invalid base58 character');
    let carry = v;
    for (let j = 0; j < bytes.length; j++) {
      carry += bytes[j] * 58;
      bytes[j] = carry & 0xff;
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push(carry & 0xff);
      carry >>= 8;
    }
  }
  const out = new Uint8Array(zeros + bytes.length);
  for (let i = 0; i < bytes.length; i++) out[out.length - 1 - i] = bytes[i];
  return out;
}

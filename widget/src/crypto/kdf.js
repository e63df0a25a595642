// Password-based key derivation (PROTOCOL.md §2), all in WebCrypto:
//   master_key = PBKDF2-HMAC-SHA256(password_norm, salt=email_norm, c=N, dkLen=32)   (RFC 8018 §5.2)
//   hash_key   = PBKDF2-HMAC-SHA256(master_key, salt=serverSalt, c=1000, dkLen=32)
//   enc_key    = HKDF-SHA256(ikm=master_key, salt=none, info="card.coop/v1/enc", L=32) (RFC 5869)
import { kdfSaltEmail, normalizeEmail } from './email.js';
import { b64uDecode, b64uEncode, utf8Encode } from './encoding.js';

const subtle = globalThis.crypto.subtle;

/** PROTOCOL.md §2: the server's default, and the floor the client enforces. */
export const DEFAULT_ITERATIONS = 600000;
export const MIN_ITERATIONS = 100000;
const HASH_KEY_ITERATIONS = 1000;
const SERVER_SALT_BYTES = 16;
const ENC_INFO = 'card.coop/v1/enc';

/**
 * `password_norm = NFKC(password)` (PROTOCOL.md §1), so that the same password typed on
 * keyboards that emit different code points (ligatures, full-width forms) derives the same keys.
 * @param {string} password
 * @returns {string}
 */
export function normalizePassword(password) {
  return password.normalize('NFKC');
}

/**
 * @typedef {{type: 'pbkdf2-sha256', iterations: number}} KdfParams
 */

/**
 * Refuse parameters a hostile or broken server could send to weaken the derivation
 * (PROTOCOL.md §2: minimum accepted 100000).
 * @param {KdfParams} kdf
 * @returns {number} the iteration count
 */
export function checkKdfParams(kdf) {
  if (!kdf || kdf.type !== 'pbkdf2-sha256') throw new Error('unsupported KDF type');
  const n = kdf.iterations;
  if (!Number.isSafeInteger(n) || n < MIN_ITERATIONS) {
    throw new Error(`KDF iterations must be an integer >= ${MIN_ITERATIONS}`);
  }
  return n;
}

/**
 * @param {Uint8Array} password
 * @param {Uint8Array} salt
 * @param {number} iterations
 * @returns {Promise<Uint8Array>} 32 bytes
 */
async function pbkdf2(password, salt, iterations) {
  // One deriveBits call for all the rounds: fast, but it reports no progress and cannot be
  // resumed in slices, so the page shows an indeterminate busy state (idp/static/app/busy.js).
  const base = await subtle.importKey('raw', password, 'PBKDF2', false, ['deriveBits']);
  const bits = await subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, base, 256);
  return new Uint8Array(bits);
}

/**
 * HKDF-SHA256 with no salt. RFC 5869 §2.2: an absent salt is HashLen zero bytes, which HMAC
 * treats exactly like the empty string WebCrypto needs here.
 * @param {Uint8Array} ikm
 * @param {string} info
 * @returns {Promise<Uint8Array>} 32 bytes
 */
export async function hkdf32(ikm, info) {
  const base = await subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
  const params = { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: utf8Encode(info) };
  return new Uint8Array(await subtle.deriveBits(params, base, 256));
}

/**
 * Like {@link hkdf32} but the result is born as a non-extractable AES-GCM key, so its bytes never
 * exist in JS memory. Usages include wrapKey/unwrapKey so card_key can be unwrapped directly.
 * @param {Uint8Array} ikm
 * @param {string} info
 * @returns {Promise<CryptoKey>}
 */
export async function hkdfAesGcmKey(ikm, info) {
  const base = await subtle.importKey('raw', ikm, 'HKDF', false, ['deriveKey']);
  const params = { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: utf8Encode(info) };
  return subtle.deriveKey(params, base, { name: 'AES-GCM', length: 256 }, false, [
    'encrypt',
    'decrypt',
    'wrapKey',
    'unwrapKey',
  ]);
}

/**
 * @param {string} serverSaltB64u
 * @returns {Uint8Array}
 */
function decodeServerSalt(serverSaltB64u) {
  const salt = b64uDecode(serverSaltB64u);
  if (salt.length !== SERVER_SALT_BYTES) throw new Error('serverSalt must be 16 bytes');
  return salt;
}

/**
 * @typedef {{kdfEmail?: string | null}} DeriveOptions `kdfEmail`: what initiate-login returned
 *   as the account's PBKDF2 salt (an account registered under the v1.0 email rule may have kept
 *   a non-canonical form); it is used only when it is a form of `email`.
 */

/**
 * @param {string} password
 * @param {string} email
 * @param {KdfParams} kdf
 * @param {DeriveOptions} options
 * @returns {Promise<Uint8Array>}
 */
async function masterKeyBytes(password, email, kdf, { kdfEmail } = {}) {
  const iterations = checkKdfParams(kdf);
  const salt = utf8Encode(kdfSaltEmail(email, kdfEmail));
  return pbkdf2(utf8Encode(normalizePassword(password)), salt, iterations);
}

/**
 * Derive every key as raw bytes. Meant for the test vectors and for the Python SDK parity
 * checks; pages should use {@link deriveKeys}, which keeps enc_key non-extractable.
 * @param {string} password
 * @param {string} email
 * @param {string} serverSaltB64u
 * @param {KdfParams} [kdf]
 * @param {DeriveOptions} [options]
 * @returns {Promise<{masterKey: Uint8Array, hashKey: Uint8Array, hashKeyB64u: string, encKey: Uint8Array}>}
 */
export async function deriveKeysRaw(password, email, serverSaltB64u, kdf = defaultKdf(), options = {}) {
  const salt = decodeServerSalt(serverSaltB64u);
  const masterKey = await masterKeyBytes(password, email, kdf, options);
  const hashKey = await pbkdf2(masterKey, salt, HASH_KEY_ITERATIONS);
  const encKey = await hkdf32(masterKey, ENC_INFO);
  return { masterKey, hashKey, hashKeyB64u: b64uEncode(hashKey), encKey };
}

/**
 * Derive the login material. `hashKeyB64u` goes to the server (43 characters); `encKey` is a
 * non-extractable AES-GCM CryptoKey (encrypt/decrypt/wrapKey/unwrapKey) for wrapped_card_key;
 * `masterKey` is a non-extractable HKDF CryptoKey for any later HKDF label. The raw master key
 * bytes are zeroed before returning (best effort: JS gives no guarantee about copies).
 * @param {string} password
 * @param {string} email
 * @param {string} serverSaltB64u
 * @param {KdfParams} [kdf]
 * @param {DeriveOptions} [options]
 * @returns {Promise<{masterKey: CryptoKey, hashKeyB64u: string, encKey: CryptoKey}>}
 */
export async function deriveKeys(password, email, serverSaltB64u, kdf = defaultKdf(), options = {}) {
  const salt = decodeServerSalt(serverSaltB64u);
  const raw = await masterKeyBytes(password, email, kdf, options);
  try {
    const hashKey = await pbkdf2(raw, salt, HASH_KEY_ITERATIONS);
    const hashKeyB64u = b64uEncode(hashKey);
    hashKey.fill(0);
    const encKey = await hkdfAesGcmKey(raw, ENC_INFO);
    const masterKey = await subtle.importKey('raw', raw, 'HKDF', false, ['deriveBits', 'deriveKey']);
    return { masterKey, hashKeyB64u, encKey };
  } finally {
    raw.fill(0);
  }
}

/**
 * The server's answer for an unknown email at initiate-login (PROTOCOL.md §2):
 * `b64u(HMAC-SHA256(server_secret, "decoy-salt:" + email_norm)[:16])`. The server computes it;
 * it lives here so the browser code can be checked against the same vector.
 * @param {Uint8Array} serverSecret
 * @param {string} email
 * @returns {Promise<string>}
 */
export async function decoySalt(serverSecret, email) {
  const key = await subtle.importKey('raw', serverSecret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = await subtle.sign('HMAC', key, utf8Encode('decoy-salt:' + normalizeEmail(email)));
  return b64uEncode(new Uint8Array(mac).subarray(0, SERVER_SALT_BYTES));
}

/** @returns {KdfParams} */
export function defaultKdf() {
  return { type: 'pbkdf2-sha256', iterations: DEFAULT_ITERATIONS };
}

// Symmetric envelopes (PROTOCOL.md §3): compact JWE (RFC 7516 §7.1) with "alg": "dir" (RFC 7518
// §4.5, so the encrypted-key part is empty) and "enc": "A256GCM" (RFC 7518 §5.3). The protected
// header is the AES-GCM AAD (RFC 7516 §5.1 step 14) and names its contents with "cty", so a blob
// cannot be replayed into another slot: openEnvelope refuses any cty but the expected one.
import { b64uEncode, concatBytes, encodeHeader, parseCompactJwe, utf8Decode, utf8Encode } from './encoding.js';

const subtle = globalThis.crypto.subtle;
const IV_BYTES = 12; // 96-bit IV, RFC 7518 §5.3
const TAG_BYTES = 16; // 128-bit tag, RFC 7518 §5.3
const CARD_KEY_BYTES = 32;
const AES_USAGES = /** @type {KeyUsage[]} */ (['encrypt', 'decrypt', 'wrapKey', 'unwrapKey']);

/** cty values of PROTOCOL.md §3. */
export const CTY = Object.freeze({
  CARD_KEY: 'card-key',
  PERSONAL_DATA: 'personal-data+json',
  ACCOUNT: 'coop-account+json',
});

/**
 * @typedef {CryptoKey | Uint8Array} AesKeyInput  a 256-bit AES-GCM CryptoKey, or its 32 raw bytes
 */

/**
 * @param {AesKeyInput} key
 * @returns {Promise<CryptoKey>}
 */
async function toAesKey(key) {
  if (key instanceof Uint8Array) {
    if (key.length !== 32) throw new Error('A256GCM key must be 32 bytes');
    return subtle.importKey('raw', key, 'AES-GCM', false, AES_USAGES);
  }
  const alg = /** @type {AesKeyAlgorithm} */ (key.algorithm);
  if (alg.name !== 'AES-GCM' || alg.length !== 256) throw new Error('key must be AES-GCM-256');
  return key;
}

/**
 * Import card_key bytes as a non-extractable AES-GCM key for the data envelopes.
 * @param {Uint8Array} raw 32 bytes
 * @returns {Promise<CryptoKey>}
 */
export async function importCardKey(raw) {
  if (!(raw instanceof Uint8Array) || raw.length !== CARD_KEY_BYTES) throw new Error('card_key must be 32 bytes');
  return subtle.importKey('raw', raw, 'AES-GCM', false, AES_USAGES);
}

/**
 * 32 fresh random bytes: a new card's key (PROTOCOL.md §3). The caller wraps it (password and
 * recovery), imports it with {@link importCardKey}, then zeroes the array.
 * @returns {Uint8Array}
 */
export function generateCardKey() {
  return globalThis.crypto.getRandomValues(new Uint8Array(CARD_KEY_BYTES));
}

/**
 * Seal bytes into a dir/A256GCM compact JWE. `headerFields` must carry at least `cty`; alg and
 * enc are fixed here. `opts.iv` exists only for test vectors: an IV must never repeat under a
 * key (NIST SP 800-38D §8), so production callers leave it to the CSPRNG.
 * @param {AesKeyInput} key
 * @param {Uint8Array} plaintext
 * @param {Record<string, unknown>} headerFields
 * @param {{iv?: Uint8Array}} [opts]
 * @returns {Promise<string>}
 */
export async function sealEnvelope(key, plaintext, headerFields, opts = {}) {
  if ('alg' in headerFields || 'enc' in headerFields) throw new Error('alg/enc are fixed by the envelope');
  if (typeof headerFields.cty !== 'string') throw new Error('envelope header needs a cty');
  const iv = opts.iv ?? globalThis.crypto.getRandomValues(new Uint8Array(IV_BYTES));
  if (iv.length !== IV_BYTES) throw new Error('A256GCM IV must be 12 bytes');
  const h = encodeHeader({ alg: 'dir', enc: 'A256GCM', ...headerFields });
  const params = { name: 'AES-GCM', iv, additionalData: utf8Encode(h), tagLength: 128 };
  const sealed = new Uint8Array(await subtle.encrypt(params, await toAesKey(key), plaintext));
  const ct = sealed.subarray(0, sealed.length - TAG_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  return `${h}..${b64uEncode(iv)}.${b64uEncode(ct)}.${b64uEncode(tag)}`;
}

/**
 * Parse a dir/A256GCM JWE and check its header before any decryption.
 * @param {string} jwe
 * @param {string} expectedCty
 */
function parseEnvelope(jwe, expectedCty) {
  const p = parseCompactJwe(jwe);
  const { header } = p;
  if (header.alg !== 'dir' || header.enc !== 'A256GCM') throw new Error('envelope must be dir/A256GCM');
  // RFC 7516 §4.1.13: extensions listed in crit must be understood; we understand none.
  // RFC 7516 §4.1.3: we never compress, and a zip we did not ask for is refused.
  if ('crit' in header || 'zip' in header) throw new Error('unsupported crit/zip header');
  if (header.cty !== expectedCty) throw new Error(`envelope holds ${String(header.cty)}, expected ${expectedCty}`);
  if (header.v !== 1) throw new Error('unsupported envelope version');
  if (p.encryptedKey.length !== 0) throw new Error('dir JWE has an empty encrypted key (RFC 7518 §4.5)');
  if (p.iv.length !== IV_BYTES || p.tag.length !== TAG_BYTES) throw new Error('bad A256GCM IV or tag length');
  return p;
}

/**
 * Open a dir/A256GCM JWE whose protected header has `cty === expectedCty` and `v === 1`.
 * Any tampering with header, IV, ciphertext or tag fails the GCM tag check.
 * @param {AesKeyInput} key
 * @param {string} jwe
 * @param {string} expectedCty
 * @returns {Promise<{header: Record<string, any>, plaintext: Uint8Array}>}
 */
export async function openEnvelope(key, jwe, expectedCty) {
  const p = parseEnvelope(jwe, expectedCty);
  const params = { name: 'AES-GCM', iv: p.iv, additionalData: p.aad, tagLength: 128 };
  let plain;
  try {
    plain = await subtle.decrypt(params, await toAesKey(key), concatBytes(p.ciphertext, p.tag));
  } catch {
    throw new Error('envelope does not decrypt: wrong key or tampered data');
  }
  return { header: p.header, plaintext: new Uint8Array(plain) };
}

/**
 * Wrap card_key (PROTOCOL.md §3, `wrapped_card_key` / `recovery_wrapped_card_key`).
 * @param {AesKeyInput} wrappingKey enc_key, or the recovery encryption key
 * @param {Uint8Array | CryptoKey} cardKey raw 32 bytes, or an extractable AES-GCM key
 * @param {{iv?: Uint8Array, via?: string}} [opts] `via: 'recovery'` marks the recovery blob
 * @returns {Promise<string>}
 */
export async function wrapCardKey(wrappingKey, cardKey, opts = {}) {
  const raw = cardKey instanceof Uint8Array ? cardKey : new Uint8Array(await subtle.exportKey('raw', cardKey));
  if (raw.length !== CARD_KEY_BYTES) throw new Error('card_key must be 32 bytes');
  /** @type {Record<string, unknown>} */
  const header = { cty: CTY.CARD_KEY, v: 1 };
  if (opts.via !== undefined) header.via = opts.via;
  try {
    return await sealEnvelope(wrappingKey, raw, header, { iv: opts.iv });
  } finally {
    if (raw !== cardKey) raw.fill(0);
  }
}

/**
 * @param {Record<string, any>} header
 * @param {string | undefined} via
 */
function checkVia(header, via) {
  if (header.via !== via) throw new Error(via ? `card key blob is not via ${via}` : 'card key blob is a recovery blob');
}

/**
 * Unwrap card_key into a NON-extractable AES-GCM CryptoKey. With a CryptoKey that may unwrapKey,
 * WebCrypto decrypts straight into the new key, so the 32 bytes never reach JS memory.
 * @param {AesKeyInput} wrappingKey
 * @param {string} jwe
 * @param {{via?: string}} [opts]
 * @returns {Promise<CryptoKey>}
 */
export async function unwrapCardKey(wrappingKey, jwe, opts = {}) {
  const p = parseEnvelope(jwe, CTY.CARD_KEY);
  checkVia(p.header, opts.via);
  const key = await toAesKey(wrappingKey);
  const params = { name: 'AES-GCM', iv: p.iv, additionalData: p.aad, tagLength: 128 };
  const wrapped = concatBytes(p.ciphertext, p.tag);
  let cardKey;
  try {
    if (key.usages.includes('unwrapKey')) {
      cardKey = await subtle.unwrapKey('raw', wrapped, key, params, 'AES-GCM', false, AES_USAGES);
    } else {
      const raw = new Uint8Array(await subtle.decrypt(params, key, wrapped));
      cardKey = await subtle.importKey('raw', raw, 'AES-GCM', false, AES_USAGES).finally(() => raw.fill(0));
    }
  } catch {
    throw new Error('card key does not unwrap: wrong key or tampered data');
  }
  // An AES-128 key would import fine; the protocol's card_key is 32 bytes.
  if (/** @type {AesKeyAlgorithm} */ (cardKey.algorithm).length !== 256) throw new Error('card_key must be 32 bytes');
  return cardKey;
}

/**
 * Re-wrap the same card_key under a new key (password change, PROTOCOL.md §3; or recovery →
 * new password). No data blob is touched; the raw key lives only inside this call.
 * @param {AesKeyInput} oldKey
 * @param {string} jwe
 * @param {AesKeyInput} newKey
 * @param {{fromVia?: string, toVia?: string, iv?: Uint8Array}} [opts]
 * @returns {Promise<string>}
 */
export async function rewrapCardKey(oldKey, jwe, newKey, opts = {}) {
  const { header, plaintext } = await openEnvelope(oldKey, jwe, CTY.CARD_KEY);
  try {
    checkVia(header, opts.fromVia);
    return await wrapCardKey(newKey, plaintext, { via: opts.toVia, iv: opts.iv });
  } finally {
    plaintext.fill(0);
  }
}

/**
 * `encrypted_personal_data` (PROTOCOL.md §3). `data` is serialized with JSON.stringify, which is
 * compact and keeps non-ASCII as UTF-8, like the vectors; pass bytes to control the exact text.
 * @param {AesKeyInput} cardKey
 * @param {object | Uint8Array} data
 * @param {string} schema schema id, e.g. "card.coop/schema/v1"
 * @param {{iv?: Uint8Array}} [opts]
 * @returns {Promise<string>}
 */
export async function encryptPersonalData(cardKey, data, schema, opts = {}) {
  if (typeof schema !== 'string' || !schema) throw new Error('schema id required');
  const bytes = data instanceof Uint8Array ? data : utf8Encode(JSON.stringify(data));
  return sealEnvelope(cardKey, bytes, { cty: CTY.PERSONAL_DATA, v: 1, schema }, opts);
}

/**
 * @param {AesKeyInput} cardKey
 * @param {string} jwe
 * @returns {Promise<{schema: string, data: any}>}
 */
export async function decryptPersonalData(cardKey, jwe) {
  const { header, plaintext } = await openEnvelope(cardKey, jwe, CTY.PERSONAL_DATA);
  if (typeof header.schema !== 'string') throw new Error('personal data envelope has no schema');
  return { schema: header.schema, data: JSON.parse(utf8Decode(plaintext)) };
}

/**
 * @typedef {{coopname: string, username: string, private_key: string, public_key: string}} CoopAccount
 */

/**
 * `encrypted_account` (PROTOCOL.md §3, §5): the header's `coop` binds the blob to its cooperative.
 * @param {AesKeyInput} cardKey
 * @param {CoopAccount} account
 * @param {{iv?: Uint8Array}} [opts]
 * @returns {Promise<string>}
 */
export async function encryptAccount(cardKey, account, opts = {}) {
  const { coopname, username, private_key, public_key } = account;
  for (const [k, v] of Object.entries({ coopname, username, private_key, public_key })) {
    if (typeof v !== 'string' || !v) throw new Error(`account.${k} required`);
  }
  // Fixed member order, the one of PROTOCOL.md §3 and the vectors.
  const bytes = utf8Encode(JSON.stringify({ coopname, username, private_key, public_key }));
  return sealEnvelope(cardKey, bytes, { cty: CTY.ACCOUNT, v: 1, coop: coopname }, opts);
}

/**
 * @param {AesKeyInput} cardKey
 * @param {string} jwe
 * @param {string} [expectedCoop] refuse a blob of another cooperative
 * @returns {Promise<CoopAccount>}
 */
export async function decryptAccount(cardKey, jwe, expectedCoop) {
  const { header, plaintext } = await openEnvelope(cardKey, jwe, CTY.ACCOUNT);
  if (expectedCoop !== undefined && header.coop !== expectedCoop) throw new Error('account of another cooperative');
  const account = JSON.parse(utf8Decode(plaintext));
  if (account.coopname !== header.coop) throw new Error('account coopname does not match its header');
  return account;
}

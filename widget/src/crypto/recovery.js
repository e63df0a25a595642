// The recovery key (PROTOCOL.md §3): 32 random bytes shown once to the member as Crockford
// base32 in groups of 4. Two keys are derived from it with HKDF-SHA256 (RFC 5869, no salt, L=32):
//   "card.coop/v1/recovery-enc"  -> AES-GCM key wrapping card_key (header via: "recovery")
//   "card.coop/v1/recovery-auth" -> the value the server checks against its Argon2id verifier
import { b64uEncode } from './encoding.js';
import { hkdf32, hkdfAesGcmKey } from './kdf.js';
import { rewrapCardKey, unwrapCardKey, wrapCardKey } from './envelope.js';

const RECOVERY_KEY_BYTES = 32;
const VIA = 'recovery';
// Crockford base32 (https://www.crockford.com/base32.html): no I, L, O, U, so that a key
// copied by hand survives 1/I/L and 0/O confusion; decoding folds those back.
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const GROUP = 4;

/** @returns {Uint8Array} 32 random bytes */
export function generateRecoveryKey() {
  return globalThis.crypto.getRandomValues(new Uint8Array(RECOVERY_KEY_BYTES));
}

/**
 * Crockford base32, most significant bit first, the last symbol zero-padded (256 bits -> 52
 * symbols), in groups of 4 joined with '-': "XXXX-XXXX-...-XXXX" (13 groups).
 * @param {Uint8Array} key 32 bytes
 * @returns {string}
 */
export function formatRecoveryKey(key) {
  if (!(key instanceof Uint8Array) || key.length !== RECOVERY_KEY_BYTES) throw new Error('recovery key must be 32 bytes');
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const byte of key) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += CROCKFORD[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += CROCKFORD[(acc << (5 - bits)) & 31];
  return out.match(new RegExp(`.{1,${GROUP}}`, 'g'))?.join('-') ?? '';
}

/**
 * Parse what the member typed: case-insensitive, hyphens and whitespace ignored, I/L read as 1
 * and O as 0 (Crockford's decoding rules). Rejects wrong length and non-zero padding bits, so a
 * mistyped key fails here rather than as a confusing server-side mismatch.
 * @param {string} text
 * @returns {Uint8Array} 32 bytes
 */
export function parseRecoveryKey(text) {
  const clean = String(text)
    .toUpperCase()
    .replace(/[\s-]/g, '')
    .replace(/[IL]/g, '1')
    .replace(/O/g, '0');
  if (clean.length !== Math.ceil((RECOVERY_KEY_BYTES * 8) / 5)) throw new Error('recovery key has the wrong length');
  const out = new Uint8Array(RECOVERY_KEY_BYTES);
  let acc = 0;
  let bits = 0;
  let at = 0;
  for (const ch of clean) {
    const v = CROCKFORD.indexOf(ch);
    if (v < 0) throw new Error('recovery key has an invalid character');
    acc = ((acc << 5) | v) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (acc >> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) throw new Error('recovery key has non-zero padding bits');
  return out;
}

/**
 * The AES-GCM key that wraps card_key for recovery: non-extractable.
 * @param {Uint8Array} recoveryKey
 * @returns {Promise<CryptoKey>}
 */
export function recoveryEncKey(recoveryKey) {
  return hkdfAesGcmKey(recoveryKey, 'card.coop/v1/recovery-enc');
}

/**
 * b64u(HKDF-SHA256(recovery_key, info="card.coop/v1/recovery-auth", L=32)): what the client sends
 * so the server can check the recovery key against its Argon2id verifier.
 * @param {Uint8Array} recoveryKey
 * @returns {Promise<string>}
 */
export async function recoveryAuthKey(recoveryKey) {
  return b64uEncode(await hkdf32(recoveryKey, 'card.coop/v1/recovery-auth'));
}

/**
 * `recovery_wrapped_card_key` (PROTOCOL.md §3): header {"cty":"card-key","v":1,"via":"recovery"}.
 * @param {Uint8Array} recoveryKey
 * @param {Uint8Array | CryptoKey} cardKey raw bytes or an extractable key
 * @param {{iv?: Uint8Array}} [opts]
 * @returns {Promise<string>}
 */
export async function wrapCardKeyForRecovery(recoveryKey, cardKey, opts = {}) {
  return wrapCardKey(await recoveryEncKey(recoveryKey), cardKey, { via: VIA, iv: opts.iv });
}

/**
 * @param {Uint8Array} recoveryKey
 * @param {string} jwe
 * @returns {Promise<CryptoKey>} non-extractable AES-GCM card_key
 */
export async function unwrapCardKeyWithRecovery(recoveryKey, jwe) {
  return unwrapCardKey(await recoveryEncKey(recoveryKey), jwe, { via: VIA });
}

/**
 * Password reset with the recovery key: the same card_key, wrapped anew under the new enc_key.
 * @param {Uint8Array} recoveryKey
 * @param {string} jwe recovery_wrapped_card_key
 * @param {CryptoKey | Uint8Array} newEncKey
 * @returns {Promise<string>} the new wrapped_card_key
 */
export async function recoverWrappedCardKey(recoveryKey, jwe, newEncKey) {
  return rewrapCardKey(await recoveryEncKey(recoveryKey), jwe, newEncKey, { fromVia: VIA });
}

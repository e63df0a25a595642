// The member's session, in this module's memory only: never in localStorage, sessionStorage,
// the URL or a global. Keys are non-extractable CryptoKeys (WebCrypto keeps their bytes out of
// reach of JavaScript); a reload or logout() loses them, which is the point.
//
// Signed in and unlocked are two states (issue #9). The idp session lives on in an HttpOnly
// cookie this script cannot read: after a reload the page asks the server for a fresh access
// token (POST /auth/session) and is signed in but locked, with no keys until the member types
// the password again.

/**
 * @typedef {{type: 'pbkdf2-sha256', iterations: number}} Kdf
 * @typedef {{cardId: string, data: any, meta: {version: number, schema: string},
 *            revision: number, wrappedCardKey: string, accounts: any[]}} Card
 */

function empty() {
  return {
    /** @type {string | null} */ email: null,
    /** the PBKDF2 salt of the current password when not `email` (PROTOCOL §2 kdfEmail) */
    /** @type {string | null} */ kdfEmail: null,
    /** @type {string | null} */ accessToken: null,
    /** @type {string | null} */ refreshToken: null,
    /** @type {string | null} */ serverSalt: null,
    /** @type {Kdf | null} */ kdf: null,
    /** @type {CryptoKey | null} */ encKey: null,
    /** @type {CryptoKey | null} */ cardKey: null,
    /** @type {Card | null} */ card: null,
    /** whether GET /card said 404 (no card yet) */
    noCard: false,
  };
}

let s = empty();
/** @type {Set<() => void>} */
const listeners = new Set();

/** @param {CryptoKey} key */
function checkKey(key) {
  if (!(key instanceof CryptoKey)) throw new TypeError('a CryptoKey is required');
  // The invariant the whole design rests on: no key of the session can be read back.
  if (key.extractable) throw new Error('session keys must be non-extractable');
  return key;
}

export function isLoggedIn() {
  return s.accessToken !== null;
}

/** Signed in and holding the keys (the password was typed in this page). */
export function isUnlocked() {
  return s.accessToken !== null && s.encKey !== null;
}

/**
 * The browser's session after a reload: signed in, no keys yet (locked).
 * @param {{email: string, kdfEmail?: string | null, accessToken: string, serverSalt: string, kdf: Kdf}} init
 */
export function startLockedSession({ email, kdfEmail = null, accessToken, serverSalt, kdf }) {
  s = empty();
  s.email = email;
  s.kdfEmail = kdfEmail && kdfEmail !== email ? kdfEmail : null;
  s.serverSalt = serverSalt;
  s.kdf = { type: kdf.type, iterations: kdf.iterations };
  setTokens({ accessToken, refreshToken: null });
  notify();
}

/**
 * The password was proven again: the keys derived from it open the card.
 * @param {CryptoKey} key enc_key
 */
export function unlock(key) {
  s.encKey = checkKey(key);
  notify();
}

/**
 * Start a session after registration, login or recovery. `kdfEmail`: what initiate-login
 * returned (already checked against `email`); registration and recovery derive from `email`.
 * @param {{email: string, kdfEmail?: string | null, tokens: any, encKey: CryptoKey, serverSalt: string, kdf: Kdf}} init
 */
export function startSession({ email, kdfEmail = null, tokens, encKey, serverSalt, kdf }) {
  s = empty();
  s.email = email;
  s.kdfEmail = kdfEmail;
  s.serverSalt = serverSalt;
  s.kdf = { type: kdf.type, iterations: kdf.iterations };
  s.encKey = checkKey(encKey);
  setTokens(tokens);
  notify();
}

/**
 * A refresh token only after a login in this page; after a reload the cookie session stands
 * in for it (api.js asks POST /auth/session for the next access token).
 * @param {{accessToken: string, refreshToken?: string | null}} tokens
 */
export function setTokens(tokens) {
  const refresh = tokens?.refreshToken ?? null;
  if (typeof tokens?.accessToken !== 'string' || (refresh !== null && typeof refresh !== 'string')) {
    throw new Error('token pair expected');
  }
  s.accessToken = tokens.accessToken;
  s.refreshToken = refresh;
}

export function accessToken() {
  return s.accessToken;
}

export function refreshToken() {
  return s.refreshToken;
}

export function email() {
  return s.email;
}

/**
 * The salts and KDF parameters of the account (for re-deriving the current password): pass
 * `kdfEmail` to deriveKeys as `{ kdfEmail }`.
 */
export function kdfParams() {
  return { serverSalt: s.serverSalt, kdf: s.kdf, kdfEmail: s.kdfEmail };
}

export function encKey() {
  return s.encKey;
}

/**
 * @param {CryptoKey} key the new enc_key after a password change, derived (like every new
 * password's keys) from the canonical email: the server forgot any other kdfEmail.
 */
export function setEncKey(key) {
  s.encKey = checkKey(key);
  s.kdfEmail = null;
}

export function cardKey() {
  return s.cardKey;
}

/**
 * @param {CryptoKey} key
 * @param {Card} card
 */
export function setCard(key, card) {
  s.cardKey = checkKey(key);
  s.card = card;
  s.noCard = false;
  notify();
}

/** @param {Partial<Card>} changes */
export function updateCard(changes) {
  if (!s.card) throw new Error('no card loaded');
  s.card = { ...s.card, ...changes };
}

/** @returns {Card | null} */
export function card() {
  return s.card;
}

export function markNoCard() {
  s.cardKey = null;
  s.card = null;
  s.noCard = true;
  notify();
}

export function hasNoCard() {
  return s.noCard;
}

/** Forget everything: tokens, keys, decrypted data. */
export function clearSession() {
  s = empty();
  notify();
}

/** @param {() => void} listener called when the session starts, ends or gets its card */
export function onSessionChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function notify() {
  for (const listener of listeners) listener();
}

// Test probe for the e2e suite: only when the page's <html> carries data-test. It reports
// whether the session's keys are extractable and what exportKey says; it never reveals key
// bytes (for a non-extractable key there are none to reveal), tokens or card data.
document.addEventListener('cardcoop:test-probe', async () => {
  const root = document.documentElement;
  if (!root.hasAttribute('data-test')) return;
  /** @type {Record<string, unknown>} */
  const report = {
    loggedIn: s.accessToken !== null,
    unlocked: s.encKey !== null,
    hasRefreshToken: s.refreshToken !== null,
    hasCardData: s.card !== null,
  };
  for (const [name, key] of /** @type {const} */ ([['encKey', s.encKey], ['cardKey', s.cardKey]])) {
    if (!key) {
      report[name] = null;
      continue;
    }
    /** @type {Record<string, unknown>} */
    const probe = { extractable: key.extractable, usages: [...key.usages] };
    try {
      await crypto.subtle.exportKey('raw', key);
      probe.exported = true;
    } catch (err) {
      probe.exported = false;
      probe.exportError = err instanceof Error ? err.name : String(err);
    }
    report[name] = probe;
  }
  root.setAttribute('data-test-result', JSON.stringify(report));
});

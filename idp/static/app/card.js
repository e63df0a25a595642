// The member's card in the browser: schema, validation and migration (widget/src/card), and
// the encrypted round trips with the idp (docs/api.md "The member card"). The card key is made
// here, wrapped under enc_key at once, and kept only as a non-extractable CryptoKey.
import * as zk from '../widget/src/crypto/index.js';
import * as api from './api.js';
import * as state from './state.js';

/** @type {Promise<any> | null} */
let schemaPromise = null;

/** GET /card/schema (public), fetched once per page. */
export function loadSchema() {
  schemaPromise ??= api.get('/card/schema', { auth: false }).catch((err) => {
    schemaPromise = null;
    throw err;
  });
  return schemaPromise;
}

/**
 * @typedef {{validateCard: (schema: any, data: any) => Array<{path: string, message_ru: string, message_en: string}>,
 *            migrateCard: (data: any, version: number) => any, CURRENT_VERSION: number}} CardLib
 */

/** @type {Promise<CardLib> | null} */
let libPromise = null;

/**
 * The card validator and migrations of widget/src/card (the same results as the SDK's, pinned
 * by shared fixtures). Imported on demand, so that logging in, the sessions and the password
 * keep working even if that module failed to load; the card screens then report the error.
 * @returns {Promise<CardLib>}
 */
export function cardLib() {
  libPromise ??= import('../widget/src/card/index.js').then((mod) => /** @type {CardLib} */ ({
    validateCard: mod.validateCard,
    migrateCard: mod.migrateCard,
    CURRENT_VERSION: mod.CURRENT_VERSION,
  })).catch((err) => {
    libPromise = null; // try again on the next use
    throw err;
  });
  return libPromise;
}

/**
 * Problems of `data` against the schema (JSON Pointer paths, Russian and English messages).
 * @param {any} data
 */
export async function validate(data) {
  const [schema, lib] = await Promise.all([loadSchema(), cardLib()]);
  return lib.validateCard(schema, data);
}

/**
 * @param {any} stored the body of GET /card
 * @param {CryptoKey} cardKey
 * @param {any} data
 */
function toCard(stored, cardKey, data) {
  return {
    cardId: stored.card_id,
    number: stored.card_number,
    data,
    meta: stored.meta,
    revision: stored.revision,
    wrappedCardKey: stored.wrapped_card_key,
    accounts: stored.accounts ?? [],
  };
}

/**
 * GET /card, unwrap the card key with enc_key, decrypt, and migrate an older format (PROTOCOL.md
 * §4): migrate in the browser, re-encrypt, PUT with the new version. Returns null when the
 * member has no card yet.
 * @returns {Promise<{migratedFrom: number | null} | null>}
 */
export async function loadCard(retried = false) {
  let stored;
  try {
    stored = await api.get('/card');
  } catch (err) {
    if (err instanceof api.ApiError && err.code === 'card_not_found') {
      state.markNoCard();
      return null;
    }
    throw err;
  }
  const encKey = state.encKey();
  if (!encKey) throw new Error('no enc_key in the session');
  const cardKey = await zk.unwrapCardKey(encKey, stored.wrapped_card_key);
  const { data } = await zk.decryptPersonalData(cardKey, stored.encrypted_personal_data);
  const lib = await cardLib();
  if (stored.meta.version >= lib.CURRENT_VERSION) {
    state.setCard(cardKey, toCard(stored, cardKey, data));
    return { migratedFrom: null };
  }
  const migrated = lib.migrateCard(data, stored.meta.version);
  const meta = { version: lib.CURRENT_VERSION, schema: stored.meta.schema };
  try {
    const saved = await api.put('/card', {
      encrypted_personal_data: await zk.encryptPersonalData(cardKey, migrated, meta.schema),
      meta,
      revision: stored.revision,
    });
    state.setCard(cardKey, { ...toCard(stored, cardKey, migrated), meta, revision: saved.revision });
  } catch (err) {
    // Another tab migrated (or edited) it first: read what is there now.
    if (!retried && err instanceof api.ApiError && err.code === 'stale_revision') return loadCard(true);
    throw err;
  }
  return { migratedFrom: stored.meta.version };
}

/**
 * Issue the card: a fresh card key, wrapped under enc_key; the data encrypted under it.
 * @param {any} data valid card data
 */
export async function issueCard(data) {
  const [schema, lib] = await Promise.all([loadSchema(), cardLib()]);
  const encKey = state.encKey();
  if (!encKey) throw new Error('no enc_key in the session');
  const raw = zk.generateCardKey();
  let wrapped;
  let cardKey;
  try {
    wrapped = await zk.wrapCardKey(encKey, raw);
    cardKey = await zk.importCardKey(raw);
  } finally {
    raw.fill(0); // the only copy of the bytes outside WebCrypto
  }
  await api.post('/card/issue', {
    encrypted_personal_data: await zk.encryptPersonalData(cardKey, data, schema.$id),
    wrapped_card_key: wrapped,
    meta: { version: lib.CURRENT_VERSION, schema: schema.$id },
  });
  await loadCard();
}

/**
 * PUT /card with the revision we read. On 409 stale_revision the card is reloaded (so the view
 * can show what is stored now) and the error is rethrown.
 * @param {any} data
 */
export async function saveCard(data) {
  const card = state.card();
  const cardKey = state.cardKey();
  if (!card || !cardKey) throw new Error('no card loaded');
  const lib = await cardLib();
  const meta = { version: lib.CURRENT_VERSION, schema: card.meta.schema };
  try {
    const saved = await api.put('/card', {
      encrypted_personal_data: await zk.encryptPersonalData(cardKey, data, meta.schema),
      meta,
      revision: card.revision,
    });
    state.updateCard({ data, meta, revision: saved.revision });
  } catch (err) {
    if (err instanceof api.ApiError && err.code === 'stale_revision') await loadCard();
    throw err;
  }
}

/**
 * GET /card/accounts, each decrypted with the card key (PROTOCOL.md §5). An account whose blob
 * does not open, or whose clear and encrypted names differ, is reported rather than hidden.
 */
export async function loadAccounts() {
  const cardKey = state.cardKey();
  const { accounts } = await api.get('/card/accounts');
  return Promise.all(accounts.map(async (/** @type {any} */ account) => {
    if (!cardKey) return { ...account, secret: null, problem: 'no_card_key' };
    try {
      const secret = await zk.decryptAccount(cardKey, account.encrypted_account, account.coopname);
      const consistent = secret.username === account.username && secret.public_key === account.public_key;
      return { ...account, secret, problem: consistent ? null : 'mismatch' };
    } catch {
      return { ...account, secret: null, problem: 'undecryptable' };
    }
  }));
}

// Opening the member's account in a cooperative (PROTOCOL.md §5), as the Python SDK's
// Card.add_account does: a random 12-letter Antelope username and a K1 key pair made here, the
// record (with the private key) encrypted under the card key, POST /card/add-account. The server
// gets the username and the public key in clear; the private key only inside the ciphertext.
import * as zk from '../widget/src/crypto/index.js';
import * as api from './api.js';
import * as state from './state.js';

/**
 * @param {string} coopname
 * @returns {Promise<{username: string, public_key: string}>}
 */
export async function createCoopAccount(coopname) {
  const cardKey = state.cardKey();
  if (!cardKey) throw new Error('no card key in the session');
  const username = zk.generateUsername();
  const pair = zk.generateKeyPair();
  const encrypted = await zk.encryptAccount(cardKey,
    { coopname, username, private_key: pair.privateKey, public_key: pair.publicKey });
  let stored;
  try {
    stored = await api.post('/card/add-account',
      { coopname, username, public_key: pair.publicKey, encrypted_account: encrypted },
      { headers: { coop: coopname } });
  } catch (err) {
    // Another tab opened it meanwhile (one account per cooperative): use that one.
    if (err instanceof api.ApiError && err.code === 'account_exists') {
      const existing = await findAccount(coopname);
      if (existing) return existing;
    }
    throw err;
  }
  if (stored?.coopname !== coopname || stored?.username !== username || stored?.public_key !== pair.publicKey) {
    throw new Error('the account stored is not the one sent');
  }
  const card = state.card();
  if (card) state.updateCard({ accounts: [...card.accounts, stored] });
  return { username, public_key: pair.publicKey };
}

/** @param {string} coopname */
async function findAccount(coopname) {
  const { accounts } = await api.get('/card/accounts');
  const found = accounts.find((/** @type {any} */ a) => a.coopname === coopname);
  return found ? { username: found.username, public_key: found.public_key } : null;
}

// A fresh proof of the current password, for the screens that ask for it again (unlock, the
// private key, the recovery key, deletion): the keys are derived here from the account's own
// salts (state.kdfParams), only hashKey leaves, and a wrong password is shown on the field.
import * as zk from '../widget/src/crypto/index.js';
import * as api from './api.js';
import * as state from './state.js';
import { whileBusy } from './busy.js';
import { T } from './i18n.js';
import { errorText } from './ui.js';

/**
 * Check the field, derive the proof while `form` is busy and run `send` with it. Returns
 * whether it went through; the field is emptied either way.
 * @param {{form: HTMLFormElement, password: any, alert: any, busy: {i18n: () => string}}} ui
 *   `password`: a ui.field; `alert`: a ui.alertBox
 * @param {(proof: {hashKeyB64u: string, encKey: CryptoKey}, say: (text: any) => void) => Promise<void>} send
 * @param {{wrongPassword?: {i18n: () => string}}} [opts] the text for a wrong password
 */
export async function withPasswordProof({ form, password, alert, busy }, send, opts = {}) {
  if (!password.input.value) {
    password.setError(T('field.password_required'));
    password.input.focus();
    return false;
  }
  password.setError(null);
  const { serverSalt, kdf, kdfEmail } = state.kdfParams();
  const email = state.email();
  if (!serverSalt || !kdf || !email) {
    alert.show(T('err.unexpected'));
    return false;
  }
  try {
    await whileBusy(form, busy, async (say) => {
      const proof = await zk.deriveKeys(password.input.value, email, serverSalt, kdf, { kdfEmail });
      await send(proof, say);
    });
  } catch (err) {
    password.input.value = '';
    password.input.focus();
    if (err instanceof api.ApiError && err.code === 'wrong_password') {
      password.setError(opts.wrongPassword ?? T('err.wrong_password'));
    } else {
      alert.show(errorText(err));
    }
    return false;
  }
  password.input.value = '';
  return true;
}

// Login (docs/api.md "Login"): the password is turned into hashKey and enc_key here; only
// hashKey is sent. enc_key then unwraps the card key, and both stay in memory as
// non-extractable CryptoKeys.
import * as zk from '../../widget/src/crypto/index.js';
import * as api from '../api.js';
import * as state from '../state.js';
import * as authorize from '../authorize.js';
import { loadCard } from '../card.js';
import { whileBusy, busyLine } from '../busy.js';
import { h } from '../dom.js';
import { T } from '../i18n.js';
import { alertBox, checkedEmail, errorText, field, link, submit, view } from '../ui.js';
import { pendingNotice } from './answer.js';

/** @param {import('../main.js').Ctx} ctx */
export default function loginView(ctx) {
  const alert = alertBox();
  const email = field({ id: 'login-email', label: T('field.email'), type: 'email', autocomplete: 'username', required: true, spellcheck: false });
  const password = field({ id: 'login-password', label: T('field.password'), type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { class: 'form', novalidate: true },
    alert.box, email.wrap, password.wrap,
    h('div', { class: 'actions' }, submit(T('login.submit'))),
    busyLine());

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    alert.clear();
    const emailNorm = checkedEmail(email, zk.normalizeEmail, { focus: false });
    password.setError(password.input.value ? null : T('field.password_required'));
    if (emailNorm === null) return email.input.focus();
    if (!password.input.value) return password.input.focus();
    try {
      await whileBusy(form, T('busy.contacting'), async (say) => {
        const attempt = await api.post('/auth/initiate-login', { email: emailNorm }, { auth: false });
        // kdfEmail: the salt an account from before email_norm v1.1 was derived with; used only
        // when it is a form of the typed address (PROTOCOL §2), else the login stops here.
        const kdfEmail = attempt.kdfEmail ?? null;
        try {
          zk.kdfSaltEmail(emailNorm, kdfEmail);
        } catch {
          throw new api.ApiError(200, 'kdf_email_mismatch', 'kdfEmail names another address');
        }
        say(T('busy.deriving'));
        const keys = await zk.deriveKeys(password.input.value, emailNorm, attempt.serverSalt, attempt.kdf, { kdfEmail });
        say(T('busy.logging_in'));
        const tokens = await api.post('/auth/complete-login',
          { email: emailNorm, hashKey: keys.hashKeyB64u, uuid: attempt.uuid }, { auth: false });
        state.startSession({ email: emailNorm, kdfEmail, tokens, encKey: keys.encKey, serverSalt: attempt.serverSalt, kdf: attempt.kdf });
        say(T('busy.opening_card'));
        try {
          const loaded = await loadCard();
          if (loaded?.migratedFrom !== null && loaded?.migratedFrom !== undefined) {
            ctx.flash(T('card.migrated', { from: loaded.migratedFrom }));
          }
        } catch (err) {
          console.error(err); // the card view retries and explains
        }
      });
    } catch (err) {
      password.input.value = '';
      alert.show(errorText(err));
      if (err instanceof api.ApiError && err.code === 'invalid_credentials') password.input.focus();
      return;
    }
    password.input.value = '';
    // With a cooperative's request waiting, the consent screen decides (it sends a member
    // without a card to issue it first when the request needs one).
    ctx.go(authorize.pending() ? 'consent' : state.hasNoCard() ? 'card/new' : 'card');
  });

  return view(T('login.title'),
    pendingNotice(ctx),
    h('p', { class: 'lead', text: T('login.lead') }),
    form,
    h('ul', { class: 'aside-links' },
      h('li', {}, link('register', T('login.to_register'))),
      h('li', {}, link('forgot', T('login.to_forgot')))));
}

// Forgotten password (docs/api.md "Password change and recovery"): an emailed code plus the
// recovery key unlock the card key wrapped for recovery; the browser re-wraps it under the
// enc_key of a new password. Without the recovery key the card cannot be opened by anyone.
import * as zk from '../../widget/src/crypto/index.js';
import * as api from '../api.js';
import * as state from '../state.js';
import * as authorize from '../authorize.js';
import { loadCard } from '../card.js';
import { whileBusy, busyLine } from '../busy.js';
import { h } from '../dom.js';
import { T } from '../i18n.js';
import { newPasswordFields } from '../password.js';
import { alertBox, button, checkedEmail, errorText, field, link, showStep, step, submit, view } from '../ui.js';
import { codeIn } from './register.js';

const STEPS = 2;
const RESTART = new Set(['too_many_attempts', 'code_expired', 'recovery_expired', 'already_completed', 'unknown_recovery']);

/** @param {import('../main.js').Ctx} ctx */
export default function forgotView(ctx) {
  const host = h('div', { class: 'steps' });
  /** @type {{email: string, uuid: string} | null} */
  let attempt = null;

  function emailStep() {
    const alert = alertBox();
    const email = field({ id: 'rec-email', label: T('field.email'), type: 'email', autocomplete: 'username', required: true,
      spellcheck: false, value: attempt?.email });
    const form = h('form', { class: 'form', novalidate: true },
      alert.box, email.wrap, h('div', { class: 'actions' }, submit(T('forgot.send_code'))), busyLine());
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      alert.clear();
      const emailNorm = checkedEmail(email, zk.normalizeEmail);
      if (emailNorm === null) return;
      try {
        const started = await whileBusy(form, T('busy.sending_code'), () =>
          api.post('/auth/recovery/initiate', { email: emailNorm }, { auth: false }));
        attempt = { email: emailNorm, uuid: started.uuid };
        showStep(host, keyStep());
      } catch (err) {
        alert.show(errorText(err));
      }
    });
    return step(1, STEPS, T('forgot.step_email'), h('p', { class: 'lead', text: T('forgot.lead') }), form);
  }

  function keyStep() {
    const current = /** @type {NonNullable<typeof attempt>} */ (attempt);
    const alert = alertBox();
    const code = field({ id: 'rec-code', label: T('code.label'), inputmode: 'numeric', autocomplete: 'one-time-code',
      maxlength: 40, required: true, hint: T('code.hint') });
    const key = field({ id: 'rec-key', label: T('forgot.key_label'), autocomplete: 'off', spellcheck: false, required: true,
      hint: T('forgot.key_hint'), rows: 2 });
    key.input.classList.add('mono');
    const pair = newPasswordFields({ label: T('field.new_password'), email: () => current.email, idPrefix: 'rec' });
    const who = h('input', { type: 'email', autocomplete: 'username', value: current.email, hidden: true, readonly: true, tabindex: '-1', 'aria-hidden': 'true' });
    /** @type {{recovery_wrapped_card_key: string, serverSalt: string, kdf: any} | null} */
    let unlocked = null;
    const form = h('form', { class: 'form', novalidate: true },
      h('p', { class: 'lead', text: T('code.sent_to_if_member', { email: current.email }) }),
      alert.box, who, code.wrap, key.wrap, pair.elements,
      h('div', { class: 'actions' }, submit(T('forgot.submit')),
        button(T('forgot.start_over'), () => showStep(host, emailStep()), { class: 'btn btn-link' })),
      busyLine());

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      alert.clear();
      // A pasted "Код: 123 456" is read as the member means it (register.js codeIn).
      const codeValue = codeIn(code.input.value) ?? '';
      let ok = true;
      if (!unlocked && !/^\d{6}$/.test(codeValue)) {
        code.setError(T('code.invalid_format'));
        ok = false;
      } else {
        code.setError(null);
      }
      /** @type {Uint8Array | null} */
      let recoveryKey = null;
      try {
        recoveryKey = zk.parseRecoveryKey(key.input.value);
        key.setError(null);
      } catch {
        key.setError(T('forgot.key_malformed'));
        ok = false;
      }
      if (!ok) {
        (code.input.getAttribute('aria-invalid') ? code.input : key.input).focus();
        recoveryKey?.fill(0);
        return;
      }
      if (!pair.check()) {
        recoveryKey?.fill(0);
        return;
      }
      const rk = /** @type {Uint8Array} */ (recoveryKey);
      try {
        await whileBusy(form, T('busy.checking_recovery'), async (say) => {
          // verify spends the code; if a later step fails, a retry goes straight to complete.
          unlocked ??= await api.post('/auth/recovery/verify', {
            email: current.email, uuid: current.uuid, code: codeValue, recovery_auth: await zk.recoveryAuthKey(rk),
          }, { auth: false });
          const opened = /** @type {NonNullable<typeof unlocked>} */ (unlocked);
          zk.checkKdfParams(opened.kdf);
          say(T('busy.deriving'));
          const keys = await zk.deriveKeys(pair.value(), current.email, opened.serverSalt, opened.kdf);
          say(T('busy.rewrapping'));
          const wrapped = await zk.recoverWrappedCardKey(rk, opened.recovery_wrapped_card_key, keys.encKey);
          const tokens = await api.post('/auth/recovery/complete',
            { email: current.email, uuid: current.uuid, newHashKey: keys.hashKeyB64u, wrapped_card_key: wrapped }, { auth: false });
          state.startSession({ email: current.email, tokens, encKey: keys.encKey, serverSalt: opened.serverSalt, kdf: opened.kdf });
          say(T('busy.opening_card'));
          await loadCard().catch((err) => console.error(err));
        });
      } catch (err) {
        if (err instanceof api.ApiError && err.code === 'invalid_recovery') {
          alert.show(T('err.invalid_recovery'));
          code.input.focus();
        } else {
          alert.show(errorText(err));
          if (err instanceof api.ApiError && RESTART.has(err.code)) {
            form.append(h('p', {}, button(T('forgot.start_over'), () => showStep(host, emailStep()))));
          }
        }
        return;
      } finally {
        rk.fill(0);
      }
      key.input.value = '';
      pair.clear();
      ctx.flash(T('forgot.done'));
      // The recovery key is spent now: without a cooperative waiting, the Security page, where
      // a new one is made (it says so).
      ctx.go(authorize.pending() ? 'consent' : state.hasNoCard() ? 'card/new' : 'security');
    });
    return step(2, STEPS, T('forgot.step_key'), form);
  }

  host.append(emailStep());
  return view(T('forgot.title'),
    host,
    h('p', { class: 'note', text: T('forgot.no_key') }),
    h('ul', { class: 'aside-links' }, h('li', {}, link('login', T('forgot.to_login')))));
}

// Registration (docs/api.md "Registration"), three steps in one view: accept the privacy policy
// and give the email; enter the emailed code (with resend); choose the password, from which the
// browser derives hashKey (sent) and enc_key (kept in memory).
import * as zk from '../../widget/src/crypto/index.js';
import * as api from '../api.js';
import * as state from '../state.js';
import * as authorize from '../authorize.js';
import { whileBusy, busyLine } from '../busy.js';
import { h, uid } from '../dom.js';
import { L, T, calendarDate } from '../i18n.js';
import { newPasswordFields } from '../password.js';
import { alertBox, button, checkedEmail, countdown, errorText, field, link, showStep, step, submit, view } from '../ui.js';
import { pendingNotice } from './answer.js';

const STEPS = 3;

/** @param {import('../main.js').Ctx} ctx */
export default async function registerView(ctx) {
  const host = h('div', { class: 'steps' });
  /** @type {{email: string, uuid: string, serverSalt: string, kdf: any} | null} */
  let attempt = null;
  let policy = null;
  try {
    policy = await api.get('/privacy-policy', { auth: false });
  } catch (err) {
    const box = alertBox();
    box.show(errorText(err));
    return view(T('register.title'), box.box);
  }

  // --- step 1: policy + email -------------------------------------------------------------
  function emailStep() {
    const alert = alertBox();
    const email = field({ id: 'reg-email', label: T('field.email'), type: 'email', autocomplete: 'email', required: true,
      spellcheck: false, value: attempt?.email });
    const acceptId = uid('accept');
    const accept = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', id: acceptId, 'aria-required': 'true' }));
    const go = /** @type {HTMLButtonElement} */ (submit(T('register.send_code'), { disabled: true, id: 'reg-send' }));
    const policyTitle = uid('policy');
    const why = h('p', { class: 'hint', id: 'reg-send-why', text: T('register.accept_needed') });
    accept.addEventListener('change', () => {
      go.disabled = !accept.checked;
      why.hidden = accept.checked;
    });
    const form = h('form', { class: 'form', novalidate: true },
      h('section', { class: 'policy', 'aria-labelledby': policyTitle },
        h('h3', { id: policyTitle, text: T('register.policy_title') }),
        h('p', { class: 'policy-version', text: T('register.policy_version', {
          version: policy.version, date: calendarDate(policy.effective_date) }) }),
        h('div', { class: 'policy-text', tabindex: '0', role: 'document', 'aria-label': T('register.policy_title'),
          text: L({ ru: policy.text.ru, en: policy.text.en }) })),
      h('div', { class: 'check' }, accept, h('label', { for: acceptId, text: T('register.accept') })),
      alert.box,
      email.wrap,
      h('div', { class: 'actions' }, go),
      why,
      busyLine());
    go.setAttribute('aria-describedby', 'reg-send-why');

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      alert.clear();
      if (!accept.checked) {
        alert.show(T('err.privacy_not_accepted'));
        accept.focus();
        return;
      }
      const emailNorm = checkedEmail(email, zk.normalizeEmail);
      if (emailNorm === null) return;
      try {
        const started = await whileBusy(form, T('busy.sending_code'), () =>
          api.post('/auth/initiate-registration', { email: emailNorm, privacy_accepted: true }, { auth: false }));
        zk.checkKdfParams(started.kdf); // refuse weak parameters before the member types a password
        attempt = { email: emailNorm, uuid: started.uuid, serverSalt: started.serverSalt, kdf: started.kdf };
        showStep(host, codeStep());
      } catch (err) {
        if (err instanceof api.ApiError && err.code === 'invalid_email') {
          email.setError(T('field.email_invalid'));
          email.input.focus();
        } else {
          alert.show(errorText(err));
        }
      }
    });
    return step(1, STEPS, T('register.step_email'), form);
  }

  // --- step 2: the emailed code -----------------------------------------------------------
  function codeStep() {
    const current = /** @type {NonNullable<typeof attempt>} */ (attempt);
    const alert = alertBox();
    const note = alertBox('success');
    const code = field({ id: 'reg-code', label: T('code.label'), inputmode: 'numeric', autocomplete: 'one-time-code',
      maxlength: 6, required: true, hint: T('code.hint') });
    const resend = /** @type {HTMLButtonElement} */ (button(T('code.resend'), () => void doResend(), { id: 'reg-resend' }));
    let stop = countdown(resend, T('code.resend'), 60);
    const form = h('form', { class: 'form', novalidate: true },
      h('p', { class: 'lead', text: T('code.sent_to', { email: current.email }) }),
      alert.box, note.box, code.wrap,
      h('div', { class: 'actions' }, submit(T('code.verify')), resend,
        button(T('register.change_email'), () => {
          stop();
          showStep(host, emailStep());
        }, { class: 'btn btn-link' })),
      busyLine());

    async function doResend() {
      alert.clear();
      note.clear();
      try {
        const sent = await api.post('/auth/resend-code', { email: current.email, uuid: current.uuid }, { auth: false });
        note.show(T('code.resent'));
        stop();
        stop = countdown(resend, T('code.resend'), sent.retryAfter ?? 60);
      } catch (err) {
        alert.show(errorText(err));
        if (err instanceof api.ApiError && err.retryAfter) {
          stop();
          stop = countdown(resend, T('code.resend'), err.retryAfter);
        }
      }
    }

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      alert.clear();
      note.clear();
      const value = code.input.value.replace(/\s/g, '');
      if (!/^\d{6}$/.test(value)) {
        code.setError(T('code.invalid_format'));
        code.input.focus();
        return;
      }
      code.setError(null);
      try {
        await whileBusy(form, T('busy.checking_code'), () =>
          api.post('/auth/verify-email', { email: current.email, code: value, uuid: current.uuid }, { auth: false }));
        stop();
        showStep(host, passwordStep());
      } catch (err) {
        if (err instanceof api.ApiError && err.code === 'invalid_code') {
          code.setError(T('err.invalid_code'));
          code.input.focus();
        } else if (err instanceof api.ApiError && err.code === 'already_verified') {
          stop();
          showStep(host, passwordStep());
        } else {
          alert.show(errorText(err));
        }
      }
    });
    return step(2, STEPS, T('register.step_code'), form);
  }

  // --- step 3: the password ---------------------------------------------------------------
  function passwordStep() {
    const current = /** @type {NonNullable<typeof attempt>} */ (attempt);
    const alert = alertBox();
    const who = field({ id: 'reg-username', label: T('field.email'), type: 'email', autocomplete: 'username', value: current.email });
    who.input.readOnly = true;
    const pair = newPasswordFields({ label: T('field.new_password'), email: () => current.email, idPrefix: 'reg' });
    const form = h('form', { class: 'form', novalidate: true },
      h('p', { class: 'lead', text: T('register.password_lead') }),
      alert.box, who.wrap, pair.elements,
      h('div', { class: 'actions' }, submit(T('register.create'))),
      busyLine());

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      alert.clear();
      if (!pair.check()) return;
      try {
        await whileBusy(form, T('busy.deriving'), async (say) => {
          const keys = await zk.deriveKeys(pair.value(), current.email, current.serverSalt, current.kdf);
          say(T('busy.creating_account'));
          const tokens = await api.post('/auth/complete-registration',
            { email: current.email, hashKey: keys.hashKeyB64u, uuid: current.uuid }, { auth: false });
          state.startSession({ email: current.email, tokens, encKey: keys.encKey, serverSalt: current.serverSalt, kdf: current.kdf });
          state.markNoCard();
        });
      } catch (err) {
        alert.show(errorText(err));
        if (err instanceof api.ApiError && ['registration_expired', 'unknown_registration', 'already_completed'].includes(err.code)) {
          form.append(h('p', {}, button(T('register.start_over'), () => {
            attempt = null;
            showStep(host, emailStep());
          })));
        }
        return;
      }
      pair.clear();
      ctx.flash(T('register.done'));
      ctx.go(authorize.pending() ? 'consent' : 'card/new');
    });
    return step(3, STEPS, T('register.step_password'), form);
  }

  host.append(emailStep());
  return view(T('register.title'),
    pendingNotice(ctx),
    h('p', { class: 'lead', text: T('register.lead') }),
    host,
    h('ul', { class: 'aside-links' }, h('li', {}, link('login', T('register.to_login')))));
}

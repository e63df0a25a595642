// Registration (docs/api.md "Registration"), three steps in one view: accept the privacy policy
// and give the email; enter the emailed code (with resend); choose the password, from which the
// browser derives hashKey (sent) and enc_key (kept in memory).
//
// Back, forward and reload: the progress is kept in sessionStorage (this tab only) so the view
// resumes at the right step. Only what is not secret is kept: the email, the attempt's uuid, its
// server salt and KDF parameters (the same ones initiate-login gives anyone), the step, when the
// last code was sent and how many were resent; never the code, the password or a key. When the
// server no longer knows the attempt, the view starts again and says why.
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
const STORE_KEY = 'cardcoop.registration';
const RESEND_INTERVAL = 60;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * @typedef {{email: string, uuid: string, serverSalt: string, kdf: any}} Attempt
 * @typedef {{step: 'email' | 'code' | 'password', email: string, uuid?: string, serverSalt?: string,
 *            kdf?: any, sentAt?: number, resent?: number}} Progress
 */

/** @returns {Progress | null} */
export function readProgress() {
  try {
    const raw = JSON.parse(sessionStorage.getItem(STORE_KEY) ?? 'null');
    if (!raw || typeof raw !== 'object' || typeof raw.email !== 'string') return null;
    if (raw.step === 'email') return { step: 'email', email: raw.email };
    if ((raw.step === 'code' || raw.step === 'password') && typeof raw.uuid === 'string' && UUID_RE.test(raw.uuid) &&
        typeof raw.serverSalt === 'string' && raw.kdf && typeof raw.kdf === 'object') {
      return raw;
    }
  } catch {
    // unreadable: as if nothing was kept
  }
  sessionStorage.removeItem(STORE_KEY);
  return null;
}

/** @param {Progress | null} progress */
function keepProgress(progress) {
  try {
    if (progress) sessionStorage.setItem(STORE_KEY, JSON.stringify(progress));
    else sessionStorage.removeItem(STORE_KEY);
  } catch {
    // storage full or disabled: registration still works, it just will not survive a reload
  }
}

/**
 * The 6-digit code in what the member typed or pasted: "123 456", "123456\n", "Код: 123456".
 * Digits separated by spaces or dashes count as one group; the code is the one group of 6.
 * @param {string} text
 * @returns {string | null}
 */
export function codeIn(text) {
  const joined = text.replace(/([0-9])[\s\u00a0-]+(?=[0-9])/gu, '$1');
  const groups = joined.match(/[0-9]+/gu) ?? [];
  const six = groups.filter((g) => g.length === 6);
  return six.length === 1 ? six[0] : null;
}

/** The server's answers that mean this attempt is over, and what the member is told. */
const RESTART_REASONS = /** @type {Record<string, string>} */ ({
  unknown_registration: 'register.restarted_expired',
  registration_expired: 'register.restarted_expired',
  too_many_attempts: 'register.restarted_attempts',
  too_many_sends: 'register.restarted_sends',
  already_completed: 'register.restarted_done',
});

/** @param {import('../main.js').Ctx} ctx */
export default async function registerView(ctx) {
  const host = h('div', { class: 'steps' });
  /** @type {Attempt | null} */
  let attempt = null;
  const saved = readProgress();
  let resent = 0;
  let sentAt = 0;
  let policy = null;
  try {
    policy = await api.get('/privacy-policy', { auth: false });
  } catch (err) {
    const box = alertBox();
    box.show(errorText(err));
    return view(T('register.title'), box.box);
  }

  /** @param {'code' | 'password'} stepName */
  function keep(stepName) {
    const current = /** @type {Attempt} */ (attempt);
    keepProgress({ step: stepName, email: current.email, uuid: current.uuid, serverSalt: current.serverSalt,
      kdf: current.kdf, sentAt, resent });
  }

  /**
   * The attempt is over on the server: start again at step 1 and say why.
   * @param {string} code the server's error code
   */
  function restart(code) {
    const email = attempt?.email;
    attempt = null;
    resent = 0;
    keepProgress(email ? { step: 'email', email } : null);
    showStep(host, emailStep(RESTART_REASONS[code] ?? 'register.restarted_expired', email));
  }

  // --- step 1: policy + email -------------------------------------------------------------
  /**
   * @param {string} [reason] why the registration started again (an i18n key), if it did
   * @param {string} [draft] the email to prefill
   */
  function emailStep(reason, draft) {
    const alert = alertBox();
    const why = alertBox(reason === 'register.restarted_done' ? 'info' : 'warning');
    why.box.id = 'reg-restarted';
    why.box.setAttribute('role', 'alert');
    if (reason) {
      why.show(T(reason));
      if (reason === 'register.restarted_done') why.box.append(' ', link('login', T('register.to_login')));
    }
    const email = field({ id: 'reg-email', label: T('field.email'), type: 'email', autocomplete: 'email', required: true,
      spellcheck: false, value: draft ?? attempt?.email });
    email.input.addEventListener('input', () => keepProgress({ step: 'email', email: email.input.value.slice(0, 320) }));
    const acceptId = uid('accept');
    const accept = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', id: acceptId, 'aria-required': 'true' }));
    const go = /** @type {HTMLButtonElement} */ (submit(T('register.send_code'), { disabled: true, id: 'reg-send' }));
    const policyTitle = uid('policy');
    const needed = h('p', { class: 'hint', id: 'reg-send-why', text: T('register.accept_needed') });
    accept.addEventListener('change', () => {
      go.disabled = !accept.checked;
      needed.hidden = accept.checked;
    });
    const form = h('form', { class: 'form', novalidate: true },
      why.box,
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
      needed,
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
        resent = 0;
        sentAt = Date.now();
        keep('code');
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
  /** @param {boolean} [resumed] shown after a reload, back or forward */
  function codeStep(resumed = false) {
    const current = /** @type {Attempt} */ (attempt);
    const alert = alertBox();
    const note = alertBox('success');
    note.box.id = 'reg-code-note';
    const resumedNote = alertBox('info');
    if (resumed) resumedNote.show(T('register.resumed_code', { email: current.email }));
    // Room for a pasted "Код: 123 456" (maxlength would cut it before we can read the digits).
    const code = field({ id: 'reg-code', label: T('code.label'), inputmode: 'numeric', autocomplete: 'one-time-code',
      maxlength: 64, required: true, hint: T('code.hint') });
    code.input.addEventListener('input', () => {
      const found = codeIn(code.input.value);
      if (found && found !== code.input.value) code.input.value = found;
    });
    const showNewest = () => {
      if (resent > 0) note.show(T('code.use_newest'));
    };
    showNewest();
    const resend = /** @type {HTMLButtonElement} */ (button(T('code.resend'), () => void doResend(), { id: 'reg-resend' }));
    // Unknown send time (sentAt 0): the button is enabled; the server says if it is too soon.
    const wait = sentAt ? RESEND_INTERVAL - Math.floor((Date.now() - sentAt) / 1000) : 0;
    let stop = countdown(resend, T('code.resend'), Math.min(RESEND_INTERVAL, Math.max(0, wait)));
    const form = h('form', { class: 'form', novalidate: true },
      h('p', { class: 'lead', text: T('code.sent_to', { email: current.email }) }),
      resumedNote.box, alert.box, note.box, code.wrap,
      h('div', { class: 'actions' }, submit(T('code.verify')), resend,
        button(T('register.change_email'), () => {
          stop();
          keepProgress({ step: 'email', email: current.email });
          showStep(host, emailStep(undefined, current.email));
        }, { class: 'btn btn-link' })),
      busyLine());

    async function doResend() {
      alert.clear();
      note.clear();
      try {
        const sent = await api.post('/auth/resend-code', { email: current.email, uuid: current.uuid }, { auth: false });
        resent += 1;
        sentAt = Date.now();
        keep('code');
        resumedNote.clear();
        showNewest();
        code.input.value = '';
        stop();
        stop = countdown(resend, T('code.resend'), sent.retryAfter ?? RESEND_INTERVAL);
      } catch (err) {
        if (err instanceof api.ApiError && err.code === 'already_verified') {
          stop();
          keep('password');
          showStep(host, passwordStep());
          return;
        }
        if (err instanceof api.ApiError && err.code in RESTART_REASONS) {
          stop();
          restart(err.code);
          return;
        }
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
      const value = codeIn(code.input.value);
      if (value === null) {
        code.setError(T('code.invalid_format'));
        code.input.focus();
        return;
      }
      code.input.value = value;
      code.setError(null);
      try {
        await whileBusy(form, T('busy.checking_code'), () =>
          api.post('/auth/verify-email', { email: current.email, code: value, uuid: current.uuid }, { auth: false }));
        stop();
        keep('password');
        showStep(host, passwordStep());
      } catch (err) {
        if (err instanceof api.ApiError && err.code === 'invalid_code') {
          code.setError(T('err.invalid_code'));
          code.input.focus();
        } else if (err instanceof api.ApiError && err.code === 'already_verified') {
          stop();
          keep('password');
          showStep(host, passwordStep());
        } else if (err instanceof api.ApiError && err.code in RESTART_REASONS) {
          stop();
          restart(err.code);
        } else {
          alert.show(errorText(err));
        }
      }
    });
    return step(2, STEPS, T('register.step_code'), form);
  }

  // --- step 3: the password ---------------------------------------------------------------
  /** @param {boolean} [resumed] shown after a reload, back or forward */
  function passwordStep(resumed = false) {
    const current = /** @type {Attempt} */ (attempt);
    const alert = alertBox();
    const resumedNote = alertBox('info');
    if (resumed) resumedNote.show(T('register.resumed_password', { email: current.email }));
    const who = field({ id: 'reg-username', label: T('field.email'), type: 'email', autocomplete: 'username', value: current.email });
    who.input.readOnly = true;
    const pair = newPasswordFields({ label: T('field.new_password'), email: () => current.email, idPrefix: 'reg' });
    const form = h('form', { class: 'form', novalidate: true },
      h('p', { class: 'lead', text: T('register.password_lead') }),
      resumedNote.box, alert.box, who.wrap, pair.elements,
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
        }, { steps: [T('busy.deriving'), T('busy.creating_account')] });
      } catch (err) {
        if (err instanceof api.ApiError && err.code in RESTART_REASONS) {
          restart(err.code);
          return;
        }
        alert.show(errorText(err));
        return;
      }
      keepProgress(null);
      pair.clear();
      ctx.flash(T('register.done'));
      ctx.go(authorize.pending() ? 'consent' : 'card/new');
    });
    return step(3, STEPS, T('register.step_password'), form);
  }

  // Resume where this tab left off (reload, back, forward), or start.
  if (saved && saved.step !== 'email') {
    attempt = { email: saved.email, uuid: /** @type {string} */ (saved.uuid),
      serverSalt: /** @type {string} */ (saved.serverSalt), kdf: saved.kdf };
    resent = Number.isSafeInteger(saved.resent) ? Number(saved.resent) : 0;
    sentAt = Number.isFinite(saved.sentAt) ? Number(saved.sentAt) : 0;
    try {
      zk.checkKdfParams(attempt.kdf);
      host.append(saved.step === 'code' ? codeStep(true) : passwordStep(true));
    } catch {
      restart('unknown_registration');
    }
  } else {
    host.append(emailStep(undefined, saved?.email));
  }
  return view(T('register.title'),
    pendingNotice(ctx),
    h('p', { class: 'lead', text: T('register.lead') }),
    host,
    h('ul', { class: 'aside-links' }, h('li', {}, link('login', T('register.to_login')))));
}

// The answer to a cooperative's request, beside the consent screen: the refusal (from the
// consent screen, or from the login and registration screens without logging in), the errors of
// the /access/* endpoints in words, and the screen shown once the answer went back.
import * as api from '../api.js';
import * as authorize from '../authorize.js';
import { h } from '../dom.js';
import { T } from '../i18n.js';
import { alertBox, button, errorText, view } from '../ui.js';

const CONSENT_ERRORS = new Set(['invalid_request', 'invalid_scope', 'invalid_client', 'unauthorized_client',
  'not_a_member', 'registry_unavailable', 'card_required', 'coop_key_mismatch']);

export class ConsentError extends Error {
  /** @param {string} code */
  constructor(code) {
    super(code);
    this.code = code;
  }
}

/** @param {unknown} err */
export function consentErrorText(err) {
  const code = err instanceof api.ApiError || err instanceof ConsentError ? err.code : null;
  if (code && CONSENT_ERRORS.has(code)) return T(`consent.err.${code}`);
  if (err instanceof api.ApiError && err.status === 400) return T('consent.err.invalid_request');
  return errorText(err);
}

/**
 * "Refuse": POST /access/deny and send access_denied back to the cooperative.
 * @param {import('../main.js').Ctx} ctx
 * @param {ReturnType<typeof alertBox>} alert where a failed refusal is reported
 * @param {Record<string, string>} [extra] id and class of the button
 */
export function denyButton(ctx, alert, extra = { class: 'btn', id: 'consent-deny' }) {
  const btn = /** @type {HTMLButtonElement} */ (button(T('consent.deny'), async () => {
    alert.clear();
    btn.disabled = true;
    try {
      await authorize.deny();
    } catch (err) {
      btn.disabled = false;
      alert.show(consentErrorText(err));
      return;
    }
    ctx.go('authorized');
  }, extra));
  return btn;
}

/**
 * After the answer went back: in iframe mode the member can close the frame; in redirect mode
 * the browser is already on its way (a link in case it is not).
 * @param {import('../main.js').Ctx} ctx
 */
export function authorizedView(ctx) {
  const done = authorize.finished();
  if (!done) {
    ctx.go(authorize.home());
    return view(T('authorized.title'));
  }
  const key = done.kind === 'shared' ? 'authorized.shared'
    : done.reason === 'not_a_member' ? 'authorized.not_member' : 'authorized.denied';
  return view(T('authorized.title'),
    h('p', { class: ['alert', done.kind === 'shared' ? 'alert-success' : 'alert-info', 'authorized-result'],
      role: 'status', dataset: { result: done.kind }, text: T(key) }),
    done.mode === 'redirect' && done.redirectTo
      ? h('p', {}, T('authorized.redirecting'), ' ',
        h('a', { href: done.redirectTo, id: 'authorize-continue', text: T('authorized.continue') }))
      : h('p', { class: 'lead', text: T('authorized.close') }));
}

/**
 * On the login and registration screens while a request waits: who asks, and a way to refuse
 * without logging in.
 * @param {import('../main.js').Ctx} ctx
 */
export function pendingNotice(ctx) {
  const req = authorize.pending();
  // card.coop's own apps (portal, business) ask nothing: the member only signs in.
  if (!req || authorize.firstParty()) return null;
  const alert = alertBox();
  const btn = denyButton(ctx, alert, { class: 'btn btn-small', id: 'authorize-deny' });
  return h('aside', { class: 'alert alert-info authorize-notice', 'aria-label': T('consent.notice_label') },
    // The cooperative's name from ВОСХОД, never its id; without it, the sentence stands alone.
    h('p', {}, ...(authorize.coopName()
      ? [T('consent.notice_before'), ' ', h('strong', { class: 'consent-coopname', text: authorize.coopName() }), ' ']
      : [T('consent.notice_unnamed'), ' ']),
    T('consent.notice_after')),
    alert.box,
    h('p', {}, btn));
}

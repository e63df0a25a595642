// The cooperatives the member has given access to (GET /access/list), each with what it got and
// when, and a revoke button (with a confirmation step): DELETE /access/grants/{id} stops the
// cooperative's tokens at once. Above them, the network's requests for the member's profile
// (GET /card/disclosures), each with allow and refuse (issue #11).
import * as api from '../api.js';
import * as state from '../state.js';
import { loadSchema } from '../card.js';
import { focus, h, uid } from '../dom.js';
import { D, T } from '../i18n.js';
import { alertBox, button, errorText, view } from '../ui.js';
import { fieldTitle } from './card.js';

const SCOPE_TEXT = /** @type {Record<string, string>} */ ({
  openid: 'access.scope.openid',
  profile: 'access.scope.profile',
  email: 'access.scope.email',
  'cardcoop:card': 'access.scope.card',
  'cardcoop:memberships': 'access.scope.memberships',
  share: 'access.scope.share',
  account: 'access.scope.account',
});

/** @param {import('../main.js').Ctx} ctx */
export default async function accessView(ctx) {
  const alert = alertBox();
  let grants;
  let disclosures = [];
  try {
    ({ grants } = await api.get('/access/list'));
    // A member without a card has no requests (the API says so with a 404).
    ({ disclosures } = await api.get('/card/disclosures').catch(() => ({ disclosures: [] })));
  } catch (err) {
    alert.show(errorText(err));
    return view(T('access.title'), alert.box);
  }
  const requests = disclosures?.length ? requestsSection(ctx, disclosures, alert) : null;
  if (!grants?.length) {
    return view(T('access.title'), alert.box, requests, h('p', { class: 'lead', text: T('access.lead') }),
      h('p', { class: 'empty', text: T('access.none') }));
  }
  // Field labels come from the schema (public); without it the field names are shown as they are.
  const schema = await loadSchema().catch(() => null);
  const data = state.card()?.data;
  return view(T('access.title'),
    alert.box,
    requests,
    h('p', { class: 'lead', text: T('access.lead') }),
    h('ul', { class: 'grants' }, grants.map((/** @type {any} */ g) => grantItem(ctx, g, schema, data, alert))));
}

/**
 * @param {import('../main.js').Ctx} ctx
 * @param {any} grant
 * @param {any} schema
 * @param {any} data the member's card data (labels follow its person type), or undefined
 * @param {ReturnType<typeof alertBox>} alert
 */
function grantItem(ctx, grant, schema, data, alert) {
  const headId = uid('grant');
  const name = grant.announce || grant.coopname;
  const fields = Array.isArray(grant.shared_fields) ? grant.shared_fields : [];
  const scopes = Array.isArray(grant.scope) ? grant.scope : String(grant.scope ?? '').split(' ').filter(Boolean);
  const actions = h('div', { class: 'actions grant-actions' });

  function ask() {
    const confirmId = uid('confirm');
    const yes = button(T('access.revoke_confirm'), () => void revoke(), {
      class: 'btn btn-small btn-danger revoke-confirm', 'aria-describedby': confirmId });
    actions.replaceChildren(
      h('p', { class: 'confirm-text', id: confirmId, text: T('access.revoke_question', { coop: name }) }),
      yes,
      button(T('access.revoke_cancel'), () => {
        initial();
        focus(actions.querySelector('button'));
      }, { class: 'btn btn-small revoke-cancel' }));
    focus(yes);
  }

  async function revoke() {
    alert.clear();
    try {
      await api.del(`/access/grants/${encodeURIComponent(String(grant.id))}`);
    } catch (err) {
      if (!(err instanceof api.ApiError && err.status === 404)) {
        alert.show(errorText(err));
        initial();
        return;
      }
    }
    ctx.flash(T('access.revoked', { coop: name }));
    ctx.go('access');
  }

  function initial() {
    actions.replaceChildren(button(T('access.revoke'), ask, {
      class: 'btn btn-small btn-danger revoke-grant', 'aria-describedby': headId }));
  }
  initial();

  return h('li', { class: 'grant', 'aria-labelledby': headId, dataset: { coop: grant.coopname, grant: String(grant.id) } },
    h('h2', { id: headId, text: name }),
    h('dl', { class: 'fields' },
      grant.username ? row(T('access.username'), h('code', { class: 'username', text: grant.username })) : null,
      row(T('access.scope'), h('ul', { class: 'inline-list grant-scope' }, scopes.map((/** @type {string} */ s) =>
        h('li', { dataset: { scope: s }, text: T(SCOPE_TEXT[s] ?? 'access.scope.other') })))),
      row(T('access.shared_fields'), fields.length
        ? h('ul', { class: 'inline-list grant-fields' }, fields.map((/** @type {string} */ f) =>
          h('li', { dataset: { field: f }, text: schema ? fieldTitle(schema, data, f) : f })))
        : h('span', { text: T('access.no_fields') })),
      row(T('access.created'), h('span', { text: D(grant.created_at) })),
      changedLater(grant) ? row(T('access.updated'), h('span', { text: D(grant.updated_at) })) : null),
    actions);
}

/** Whether the grant was renewed after it was made (a new consent), not just written twice. */
function changedLater(/** @type {any} */ grant) {
  const made = Date.parse(grant.created_at);
  const changed = Date.parse(grant.updated_at);
  return Number.isFinite(made) && Number.isFinite(changed) && changed - made >= 60_000;
}

/**
 * @param {{i18n: () => string}} label
 * @param {HTMLElement} value
 */
function row(label, value) {
  return h('div', { class: 'row' }, h('dt', { text: label }), h('dd', {}, value));
}

/**
 * The network's requests for the member's profile, each answered with allow or refuse.
 * @param {import('../main.js').Ctx} ctx
 * @param {any[]} disclosures
 * @param {ReturnType<typeof alertBox>} alert
 */
function requestsSection(ctx, disclosures, alert) {
  const headId = uid('requests');
  return h('section', { class: 'disclosures', 'aria-labelledby': headId },
    h('h2', { id: headId, text: T('disclosures.title') }),
    h('p', { class: 'lead', text: T('disclosures.lead') }),
    h('ul', { class: 'grants' }, disclosures.map((d) => {
      const names = { requester: d.requester_name || d.requester, source: d.source_name || d.source };
      const questionId = uid('question');
      async function answer(/** @type {'allow' | 'deny'} */ verdict) {
        alert.clear();
        try {
          await api.post(`/card/disclosures/${encodeURIComponent(String(d.id))}/${verdict}`, {});
        } catch (err) {
          alert.show(err instanceof api.ApiError && err.status === 404 ? T('disclosures.gone') : errorText(err));
          return;
        }
        ctx.flash(T(verdict === 'allow' ? 'disclosures.allowed' : 'disclosures.denied', names));
        ctx.go('access');
      }
      return h('li', { class: 'grant disclosure', dataset: { disclosure: String(d.id) }, 'aria-labelledby': questionId },
        h('p', { id: questionId, class: 'disclosure-question', text: T('disclosures.question', names) }),
        h('p', { class: 'hint', text: T('disclosures.until', { time: D(d.expires_at) }) }),
        h('div', { class: 'actions grant-actions' },
          button(T('disclosures.allow'), () => void answer('allow'), { class: 'btn btn-small btn-primary allow-disclosure', 'aria-describedby': questionId }),
          button(T('disclosures.deny'), () => void answer('deny'), { class: 'btn btn-small deny-disclosure', 'aria-describedby': questionId })));
    })));
}


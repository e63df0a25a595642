// The consent screen of an authorization request (authorize.js): POST /access/prepare-share-data
// says who asks and for what; the member chooses the card fields to share and answers. Sharing
// encrypts the chosen fields here to the cooperative's key (PROTOCOL.md §6) — the server stores
// and forwards only the JWE — and, when joining, first opens the member's account in the
// cooperative (coopaccount.js). The answer (ticket or refusal) goes back by redirect or postMessage.
import * as zk from '../../widget/src/crypto/index.js';
import * as api from '../api.js';
import * as authorize from '../authorize.js';
import * as state from '../state.js';
import { loadSchema } from '../card.js';
import { createCoopAccount } from '../coopaccount.js';
import { whileBusy, busyLine } from '../busy.js';
import { h, uid } from '../dom.js';
import { F, T, bindText } from '../i18n.js';
import { branchFor } from '../schema.js';
import { STRINGS } from '../strings.js';
import { alertBox, button, link, submit, view } from '../ui.js';
import { ConsentError, consentErrorText, denyButton } from './answer.js';
import { ensureCard, fieldTitle, fieldValue, isFilled } from './card.js';

// Server-side claims (DESIGN.md §2) in words; claims of one meaning share a text.
const CLAIM_TEXT = /** @type {Record<string, string>} */ ({
  sub: 'consent.claim.sub',
  email: 'consent.claim.email',
  email_verified: 'consent.claim.email_verified',
  card_id: 'consent.claim.card_number',
  card_number: 'consent.claim.card_number',
  memberships: 'consent.claim.memberships',
  sid: 'consent.claim.sid',
});
// What each OIDC scope yields, for a server that sends no `claims` list.
const SCOPE_CLAIMS = /** @type {Record<string, string[]>} */ ({
  openid: ['sub'],
  email: ['email', 'email_verified'],
  'cardcoop:card': ['card_number'],
  'cardcoop:memberships': ['memberships'],
});
/** @param {import('../main.js').Ctx} ctx */
export default async function consentView(ctx) {
  if (!authorize.pending()) {
    ctx.go(authorize.finished() ? 'authorized' : 'card');
    return view(T('consent.title'));
  }
  if (authorize.firstParty()) return continueFirstParty(ctx);
  let info;
  try {
    info = await api.post('/access/prepare-share-data', authorize.requestBody());
  } catch (err) {
    if (err instanceof api.ApiError && err.code === 'card_required') {
      ctx.flash(T('consent.card_first'), 'info');
      ctx.go('card/new');
      return view(T('consent.title'));
    }
    return failure(ctx, err);
  }
  const withData = Boolean(info.share || info.join);
  /** @type {any} */
  let schema = null;
  /** @type {any} */
  let data = {};
  if (withData) {
    try {
      if (!(await ensureCard(ctx))) {
        ctx.flash(T('consent.card_first'), 'info');
        ctx.go('card/new');
        return view(T('consent.title'));
      }
      schema = await loadSchema();
      data = state.card()?.data ?? {};
    } catch (err) {
      return failure(ctx, err instanceof api.ApiError ? err : new ConsentError('card_unreadable'));
    }
  }
  return consentForm(ctx, info, schema, data);
}

/**
 * The request cannot be answered with a consent (bad request, not a member, registry down):
 * say why, and offer the refusal when the cooperative is waiting for an answer.
 * @param {import('../main.js').Ctx} ctx
 * @param {unknown} err
 */
function failure(ctx, err) {
  const alert = alertBox();
  alert.show(err instanceof ConsentError && err.code === 'card_unreadable' ? T('card.cannot_open') : consentErrorText(err));
  const invalid = err instanceof api.ApiError && err.status === 400;
  const retry = err instanceof api.ApiError && (err.code === 'registry_unavailable' || err.status === 0 || err.status >= 500);
  if (err instanceof api.ApiError && err.code === 'not_a_member') return notAMember(ctx, alert);
  const actions = h('div', { class: 'actions' },
    retry ? button(T('consent.retry'), () => ctx.go('consent'), { class: 'btn btn-primary', id: 'consent-retry' }) : null,
    invalid ? null : denyButton(ctx, alert),
    // A cooperative the registry does not know: the way back is the refusal above, or the card.
    err instanceof api.ApiError && err.code === 'unknown_cooperative'
      ? link('card', T('consent.to_card'), { class: 'btn', id: 'consent-to-card' }) : null);
  return view(T('consent.title'), alert.box, actions);
}

/**
 * Not a member of the cooperative (yet): nothing can be shared; the way on is back to the
 * cooperative, which is told exactly that (access_denied, reason not_a_member) and can offer
 * joining.
 * @param {import('../main.js').Ctx} ctx
 * @param {ReturnType<typeof alertBox>} alert showing why
 */
function notAMember(ctx, alert) {
  const problem = alertBox();
  const back = /** @type {HTMLButtonElement} */ (button(T('consent.not_member_back'), async () => {
    problem.clear();
    back.disabled = true;
    try {
      await authorize.deny('not_a_member');
    } catch (err) {
      back.disabled = false;
      problem.show(consentErrorText(err));
      return;
    }
    ctx.go('authorized');
  }, { class: 'btn btn-primary', id: 'consent-not-member-back' }));
  return view(T('consent.title'), alert.box,
    h('p', { class: 'consent-not-member', text: T('consent.not_member_next') }),
    problem.box, h('div', { class: 'actions' }, back));
}

/**
 * @param {import('../main.js').Ctx} ctx
 * @param {any} info the answer of prepare-share-data
 * @param {any} schema the card schema (null without share/account)
 * @param {any} data the decrypted card data
 */
function consentForm(ctx, info, schema, data) {
  const alert = alertBox();
  const announce = typeof info.announce === 'string' && info.announce ? info.announce : info.coopname;
  const withData = Boolean(info.share || info.join);
  const fields = withData ? fieldsSection(info, schema, data) : null;
  const form = h('form', { class: ['form', 'consent'], novalidate: true, id: 'consent-form' },
    alert.box,
    claimsSection(info),
    withData ? accountSection(info) : null,
    fields?.element,
    h('div', { class: 'actions' },
      submit(T(withData ? 'consent.share' : 'consent.allow'), { id: 'consent-share' }),
      denyButton(ctx, alert)),
    h('p', { class: 'hint' }, T('consent.revoke_hint'), ' ', link('access', T('consent.revoke_link'))),
    busyLine());

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    alert.clear();
    let answer;
    try {
      answer = await whileBusy(form, T('busy.sharing'), async (say) => {
        /** @type {Record<string, unknown>} */
        let extra = {};
        if (withData) {
          let account = info.account;
          if (!account) {
            if (!info.join) throw new ConsentError('not_a_member');
            say(T('busy.creating_coop_account'));
            account = await createCoopAccount(info.coopname);
            info.account = account; // a retry after a failed share uses it instead of a new one
          }
          const chosen = /** @type {NonNullable<typeof fields>} */ (fields).chosen();
          say(T('busy.encrypting_share'));
          const shared = Object.fromEntries(chosen.map((name) => [name, data[name]]));
          extra = {
            username: account.username,
            public_key: account.public_key,
            encrypted_data: await encryptForCoop(info, account, shared),
            shared_fields: chosen,
          };
        }
        say(T('busy.sending'));
        return api.post('/access/share-data', authorize.requestBody(extra));
      });
    } catch (err) {
      alert.show(consentErrorText(err));
      return;
    }
    try {
      authorize.shared(answer);
    } catch (err) {
      console.error(err);
      alert.show(T('err.bad_response'));
      return;
    }
    ctx.go('authorized');
  });

  return view(T('consent.title'),
    h('p', { class: 'lead consent-who' },
      T('consent.asks_before'), ' ',
      h('strong', { class: 'consent-coop', text: announce }), ' ',
      T(withData ? 'consent.asks_data' : 'consent.asks_login')),
    form);
}

/**
 * What the cooperative will learn from the server (claims) and, with share/account, from the
 * encrypted part.
 * @param {any} info
 */
function claimsSection(info) {
  const names = Array.isArray(info.claims) && info.claims.length
    ? info.claims
    : (info.scopes ?? []).flatMap((/** @type {string} */ s) => SCOPE_CLAIMS[s] ?? []);
  const rank = (/** @type {string} */ n) => (n in CLAIM_TEXT ? Object.keys(CLAIM_TEXT).indexOf(n) : 99);
  /** @type {Map<string, string>} text key → first claim name */
  const texts = new Map();
  for (const name of [...names].sort((x, y) => rank(x) - rank(y))) {
    const key = CLAIM_TEXT[name];
    if (key && !texts.has(key)) texts.set(key, name);
    if (!key && !texts.has(name)) texts.set(name, name);
  }
  // A claim without a text is named in general words, never by its id.
  const items = [...texts].map(([key, name]) => h('li', { dataset: { claim: name },
    text: T(key in STRINGS ? key : 'consent.claim.other') }));
  if (info.join && !info.account) items.push(h('li', { dataset: { claim: 'account' }, text: T('consent.claim.account_new') }));
  else if (info.share || info.join) items.push(h('li', { dataset: { claim: 'account' }, text: T('consent.claim.account') }));
  if (info.share || info.join) items.push(h('li', { dataset: { claim: 'share' }, text: T('consent.claim.share') }));
  const headId = uid('claims');
  return h('section', { class: 'panel consent-claims', 'aria-labelledby': headId },
    h('h2', { id: headId, text: T('consent.receives') }),
    items.length ? h('ul', { class: 'claims' }, items) : h('p', { text: T('consent.receives_nothing') }));
}

/** @param {any} info */
function accountSection(info) {
  const headId = uid('acct');
  const body = info.account
    ? h('p', { class: 'consent-account', dataset: { username: info.account.username } },
      T('consent.account_existing'), ' ', h('code', { class: 'username', text: info.account.username }))
    : h('p', { class: 'consent-account consent-account-new', text: T('consent.account_new') });
  return h('section', { class: 'panel', 'aria-labelledby': headId },
    h('h2', { id: headId, text: T('consent.account_title') }), body);
}

// Never pre-ticked, even when the cooperative asks for it: the member chooses to send it.
const NEVER_PRETICKED = new Set(['passport']);

/**
 * The card's filled-in top-level fields as checkboxes, each with the value that would leave
 * beside its label (decrypted here, in this page). Privacy by default: only what the cooperative
 * asked for (`fields` of its request) starts ticked, never the passport; the member may add any
 * other field. A summary below says what will be sent.
 * @param {any} info
 * @param {any} schema
 * @param {any} data
 */
function fieldsSection(info, schema, data) {
  const requested = Array.isArray(info.requested_fields) ? info.requested_fields.map(String) : [];
  const offered = fieldOrder(schema, data).filter((name) => isFilled(data[name]));
  const missing = requested.filter((name) => !isFilled(data[name]));
  const precheck = (/** @type {string} */ name) => Boolean(info.share) && requested.includes(name) && !NEVER_PRETICKED.has(name);
  const legendId = uid('fields');
  const summary = h('p', { class: 'consent-summary', id: `${legendId}-summary`, 'aria-live': 'polite' });
  const boxes = offered.map((name) => {
    const id = uid('share');
    const valueId = `${id}-value`;
    const input = h('input', { type: 'checkbox', name: 'share-field', value: name, id, checked: precheck(name),
      'aria-describedby': valueId, onChange: () => summarize() });
    return h('div', { class: ['check', 'share-field'], dataset: { field: name, requested: String(requested.includes(name)) } }, input,
      h('label', { for: id },
        h('span', { class: 'share-title' }, fieldTitle(schema, data, name),
          requested.includes(name) ? h('span', { class: 'share-asked', text: T('consent.field_asked') }) : null),
        h('span', { class: 'share-value', id: valueId, text: fieldValue(schema, data, name) })));
  });
  const element = h('fieldset', { class: 'consent-fields', 'aria-describedby': `${legendId}-hint` },
    h('legend', { id: legendId, text: T('consent.fields_legend') }),
    h('p', { class: 'hint', id: `${legendId}-hint` }, T('consent.fields_hint'), ' ',
      T(requested.length ? 'consent.fields_asked_hint' : 'consent.fields_none_asked_hint')),
    boxes.length ? boxes : h('p', { class: 'empty', text: T('consent.fields_none') }),
    boxes.length ? summary : null,
    missing.length ? h('p', { class: 'alert alert-warning consent-missing' },
      T('consent.fields_missing'), ' ',
      missing.map((name, i) => [i ? ', ' : '', h('span', { dataset: { field: name }, text: fieldTitle(schema, data, name) })]),
      '. ', link('card/edit', T('consent.fields_edit'))) : null);
  const chosen = () => [...element.querySelectorAll('input[name="share-field"]')]
    .filter((input) => /** @type {HTMLInputElement} */ (input).checked)
    .map((input) => /** @type {HTMLInputElement} */ (input).value);
  function summarize() {
    const names = chosen();
    const titles = names.map((name) => fieldTitle(schema, data, name));
    bindText(summary, names.length
      ? F(() => `${T('consent.summary_some').i18n()} ${titles.map((t) => t.i18n()).join(', ')}.`)
      : T('consent.summary_none'));
  }
  summarize();
  return {
    element,
    /** @returns {string[]} the checked fields, in the card's order */
    chosen,
  };
}

/**
 * Top-level fields of the card: the schema branch's order first, then unknown ones.
 * @param {any} schema
 * @param {any} data
 * @returns {string[]}
 */
function fieldOrder(schema, data) {
  const known = Object.keys(branchFor(schema, data?.person_type)?.properties ?? {});
  const present = Object.keys(data ?? {});
  return [...known.filter((k) => present.includes(k)), ...present.filter((k) => !known.includes(k))];
}

/**
 * The share JWE (PROTOCOL.md §6) to the key prepare-share-data named, after checking that the
 * kid is that key's RFC 7638 thumbprint and, for a K1 key, that the JWK is that key.
 * @param {any} info
 * @param {{username: string, public_key: string}} account
 * @param {Record<string, unknown>} data
 */
/**
 * card.coop's own app: no consent to ask. With a card, the authorization endpoint now answers
 * at once; without one, the card comes first (its id is the subject the app knows).
 * @param {import('../main.js').Ctx} ctx
 */
async function continueFirstParty(ctx) {
  const account = await api.get('/auth/account');
  if (!account.has_card) {
    ctx.flash(T('consent.card_first_app'), 'info');
    ctx.go('card/new');
    return view(T('consent.title'));
  }
  authorize.continueFirstParty();
  return view(T('consent.title'), h('p', { class: 'muted', text: T('consent.signing_in') }));
}

async function encryptForCoop(info, account, data) {
  const raw = info.encryption_jwk ?? {};
  const jwk = { kty: raw.kty, crv: raw.crv, x: raw.x, y: raw.y };
  if (typeof info.kid !== 'string' || (await zk.jwkThumbprint(jwk)) !== info.kid) throw new ConsentError('coop_key_mismatch');
  if (info.public_key) {
    const k1 = zk.toJwk(info.public_key);
    if (jwk.crv !== k1.crv || jwk.x !== k1.x || jwk.y !== k1.y) throw new ConsentError('coop_key_mismatch');
  }
  return zk.encryptShare(jwk, {
    v: 1,
    coopname: info.coopname,
    username: account.username,
    public_key: account.public_key,
    schema: info.schema,
    data,
    issued_at: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  });
}


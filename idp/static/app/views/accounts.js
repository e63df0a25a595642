// The member's cooperative accounts (GET /card/accounts), each decrypted with the card key. The
// private key stays hidden until the member asks for it and proves the password again
// (POST /auth/reauth, counted toward the lockout: an unattended unlocked page does not give it
// away), and is removed from the page again with "Hide" (it only ever lives in this page).
import * as api from '../api.js';
import * as state from '../state.js';
import { busyLine } from '../busy.js';
import { loadAccounts } from '../card.js';
import { h, uid } from '../dom.js';
import { D, T, bindText } from '../i18n.js';
import { alertBox, button, errorText, field, link, submit, view } from '../ui.js';
import { withPasswordProof } from '../proof.js';
import { ensureCard } from './card.js';

/** @param {import('../main.js').Ctx} ctx */
export default async function accountsView(ctx) {
  const alert = alertBox();
  let accounts;
  try {
    if (!(await ensureCard(ctx))) {
      return view(T('accounts.title'), h('p', { class: 'lead', text: T('accounts.no_card') }),
        h('p', {}, link('card/new', T('card.issue_now'), { class: 'btn btn-primary' })));
    }
    accounts = await loadAccounts();
  } catch (err) {
    alert.show(err instanceof api.ApiError ? errorText(err) : T('card.cannot_open'));
    return view(T('accounts.title'), alert.box);
  }
  if (!accounts.length) {
    return view(T('accounts.title'), h('p', { class: 'lead', text: T('accounts.lead') }),
      h('p', { class: 'empty', text: T('accounts.none') }));
  }
  const names = await cooperativeNames();
  return view(T('accounts.title'),
    h('p', { class: 'lead', text: T('accounts.lead') }),
    h('ul', { class: 'accounts' }, accounts.map((/** @type {any} */ a) => accountItem(a, names))));
}

/**
 * The cooperatives' names from ВОСХОД (GET /cooperatives), so that the member reads «ПК ВОСХОД»,
 * not its account name; an empty map when the registry does not answer (the name falls back).
 * @returns {Promise<Map<string, string>>}
 */
async function cooperativeNames() {
  try {
    const { cooperatives } = await api.get('/cooperatives');
    return new Map(cooperatives.map((/** @type {any} */ c) => [c.coopname, c.announce]));
  } catch {
    return new Map();
  }
}

/**
 * @param {any} account
 * @param {Map<string, string>} names
 */
function accountItem(account, names) {
  const headId = uid('acc');
  const secretId = uid('pk');
  const secretBox = h('div', { class: 'secret', id: secretId, hidden: true });
  /** @type {HTMLElement[]} */
  let extra = [];
  if (account.problem === 'mismatch') extra = [h('p', { class: 'alert alert-warning', text: T('accounts.mismatch') })];
  if (account.problem === 'undecryptable' || account.problem === 'no_card_key') {
    extra = [h('p', { class: 'alert alert-warning', text: T('accounts.undecryptable') })];
  }
  const toggle = account.secret ? h('button', {
    type: 'button', class: 'btn btn-small', 'aria-expanded': 'false', 'aria-controls': secretId,
    text: T('accounts.show_private'),
  }) : null;
  const setOpen = (/** @type {boolean} */ open) => {
    if (!toggle) return;
    toggle.setAttribute('aria-expanded', String(open));
    bindText(toggle, T(open ? 'accounts.hide_private' : 'accounts.show_private'));
  };
  const hide = () => {
    secretBox.replaceChildren(); // gone from the DOM, not merely hidden
    secretBox.hidden = true;
    setOpen(false);
    toggle?.focus();
  };
  const reveal = () => {
    secretBox.replaceChildren(
      h('p', { class: 'warning-text', text: T('accounts.private_warning') }),
      h('code', { class: 'key private-key', text: account.secret.private_key }));
    secretBox.hidden = false;
    setOpen(true);
  };
  toggle?.addEventListener('click', () => {
    if (toggle.getAttribute('aria-expanded') === 'true') return hide();
    secretBox.replaceChildren(reauthForm(reveal, hide));
    secretBox.hidden = false;
    setOpen(true);
    /** @type {HTMLInputElement} */ (secretBox.querySelector('input[type=password]')).focus();
  });
  return h('li', { class: 'account', 'aria-labelledby': headId, dataset: { coop: account.coopname } },
    h('h2', { id: headId, text: names.get(account.coopname) ?? account.coopname }),
    h('dl', { class: 'fields' },
      h('div', { class: 'row' }, h('dt', { text: T('accounts.username') }), h('dd', {}, h('code', { class: 'username', text: account.secret?.username ?? account.username }))),
      h('div', { class: 'row' }, h('dt', { text: T('accounts.public_key') }), h('dd', {}, h('code', { class: 'key public-key', text: account.secret?.public_key ?? account.public_key }))),
      h('div', { class: 'row' }, h('dt', { text: T('accounts.created') }), h('dd', { text: D(account.created_at) }))),
    extra,
    toggle,
    secretBox);
}

/**
 * The password again, checked by the server (POST /auth/reauth) before a secret is shown.
 * @param {() => void} onOk
 * @param {() => void} onCancel
 */
function reauthForm(onOk, onCancel) {
  const alert = alertBox();
  const email = /** @type {string} */ (state.email());
  const password = field({ id: uid('reauth-password'), label: T('field.current_password'), type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { class: 'form reauth', novalidate: true },
    h('p', { text: T('accounts.reauth_lead') }),
    h('input', { type: 'email', autocomplete: 'username', value: email, hidden: true, readonly: true, tabindex: '-1', 'aria-hidden': 'true' }),
    alert.box, password.wrap,
    h('div', { class: 'actions' },
      submit(T('accounts.reauth_submit'), { class: 'btn btn-primary btn-small reauth-submit' }),
      button(T('accounts.reauth_cancel'), onCancel, { class: 'btn btn-link' })),
    busyLine());
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    alert.clear();
    const proven = await withPasswordProof({ form, password, alert, busy: T('busy.checking_password') },
      (proof) => api.post('/auth/reauth', { hashKey: proof.hashKeyB64u }));
    if (proven) onOk();
  });
  return form;
}

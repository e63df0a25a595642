// The member's cooperative accounts (GET /card/accounts), each decrypted with the card key. The
// private key stays hidden until the member asks for it, and is removed from the page again
// with "Hide" (it only ever lives in this page).
import * as api from '../api.js';
import { loadAccounts } from '../card.js';
import { h, uid } from '../dom.js';
import { D, T, bindText } from '../i18n.js';
import { alertBox, errorText, link, view } from '../ui.js';
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
  return view(T('accounts.title'),
    h('p', { class: 'lead', text: T('accounts.lead') }),
    h('ul', { class: 'accounts' }, accounts.map(accountItem)));
}

/** @param {any} account */
function accountItem(account) {
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
  toggle?.addEventListener('click', () => {
    const open = toggle.getAttribute('aria-expanded') === 'true';
    if (open) {
      secretBox.replaceChildren(); // gone from the DOM, not merely hidden
      secretBox.hidden = true;
    } else {
      secretBox.replaceChildren(
        h('p', { class: 'warning-text', text: T('accounts.private_warning') }),
        h('code', { class: 'key private-key', text: account.secret.private_key }));
      secretBox.hidden = false;
    }
    toggle.setAttribute('aria-expanded', String(!open));
    bindText(toggle, T(open ? 'accounts.show_private' : 'accounts.hide_private'));
  });
  return h('li', { class: 'account', 'aria-labelledby': headId, dataset: { coop: account.coopname } },
    h('h2', { id: headId, text: account.coopname }),
    h('dl', { class: 'fields' },
      h('div', { class: 'row' }, h('dt', { text: T('accounts.username') }), h('dd', {}, h('code', { class: 'username', text: account.secret?.username ?? account.username }))),
      h('div', { class: 'row' }, h('dt', { text: T('accounts.public_key') }), h('dd', {}, h('code', { class: 'key public-key', text: account.secret?.public_key ?? account.public_key }))),
      h('div', { class: 'row' }, h('dt', { text: T('accounts.created') }), h('dd', { text: D(account.created_at) }))),
    extra,
    toggle,
    secretBox);
}

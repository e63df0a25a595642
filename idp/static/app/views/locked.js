// The locked screen (issue #9): the browser is still signed in (its idp session cookie), but a
// reload took the keys with it. The email is known, so only the password is asked; the keys
// are derived again here, the server checks the proof (POST /auth/reauth counts toward the
// login lockout) and the card opens. Like a password manager's vault, not a new login.
import * as api from '../api.js';
import * as state from '../state.js';
import { loadCard } from '../card.js';
import { busyLine } from '../busy.js';
import { h } from '../dom.js';
import { T } from '../i18n.js';
import { withPasswordProof } from '../proof.js';
import { alertBox, field, submit, view } from '../ui.js';

/**
 * @param {import('../main.js').Ctx} ctx
 * @param {() => void} unlocked called once the keys are back
 */
export default function lockedView(ctx, unlocked) {
  const alert = alertBox();
  const email = /** @type {string} */ (state.email());
  // For password managers: the account this password belongs to, not editable here.
  const username = h('input', { type: 'email', name: 'username', autocomplete: 'username', value: email, hidden: true, readonly: true, tabindex: '-1', 'aria-hidden': 'true' });
  const password = field({ id: 'unlock-password', label: T('field.password'), type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { class: 'form', novalidate: true },
    alert.box, username, password.wrap,
    h('div', { class: 'actions' }, submit(T('locked.submit'))),
    busyLine());

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    alert.clear();
    const opened = await withPasswordProof({ form, password, alert, busy: T('busy.deriving') },
      async (keys, say) => {
        say(T('busy.checking_password'));
        await api.post('/auth/reauth', { hashKey: keys.hashKeyB64u });
        state.unlock(keys.encKey);
        say(T('busy.opening_card'));
        try {
          await loadCard();
        } catch (err) {
          console.error(err); // the card view retries and explains
        }
      }, { wrongPassword: T('locked.wrong_password') });
    if (opened) unlocked();
  });

  return view(T('locked.title'),
    h('p', { class: 'lead', text: T('locked.lead', { email }) }),
    form,
    h('ul', { class: 'aside-links' },
      h('li', {}, h('button', { type: 'button', class: 'link-button', id: 'locked-logout', text: T('locked.not_you'), onClick: () => ctx.logout() })),
      h('li', {}, h('a', { href: '#/forgot', text: T('login.to_forgot'), onClick: async (/** @type {Event} */ e) => {
        e.preventDefault();
        await ctx.logout();
        ctx.go('forgot');
      } }))));
}

// Security settings: change the password (the same card key re-wrapped under the new enc_key,
// nothing re-encrypted), the recovery key, the open sessions with revoke buttons, and logout.
import * as zk from '../../widget/src/crypto/index.js';
import * as api from '../api.js';
import * as state from '../state.js';
import { loadCard } from '../card.js';
import { whileBusy, busyLine } from '../busy.js';
import { focus, h, uid } from '../dom.js';
import { D, T } from '../i18n.js';
import { newPasswordFields } from '../password.js';
import { recoverySection } from '../recovery.js';
import { alertBox, button, errorText, field, submit, view } from '../ui.js';

/** @param {import('../main.js').Ctx} ctx */
export default async function securityView(ctx) {
  if (!state.card() && !state.hasNoCard()) await loadCard().catch((err) => console.error(err));
  const sessions = sessionsSection();
  return view(T('security.title'),
    passwordSection(() => void sessions.refresh()),
    recoverySection(),
    sessions.section,
    h('section', { class: 'panel', 'aria-labelledby': 'logout-h' },
      h('h2', { id: 'logout-h', text: T('security.logout_title') }),
      h('p', { text: T('security.logout_lead') }),
      button(T('nav.logout'), () => void ctx.logout(), { class: 'btn', id: 'security-logout' })));
}

/** @param {() => void} onChanged */
function passwordSection(onChanged) {
  const alert = alertBox();
  const done = alertBox('success');
  const email = /** @type {string} */ (state.email());
  const current = field({ id: 'chg-current', label: T('field.current_password'), type: 'password', autocomplete: 'current-password', required: true });
  const pair = newPasswordFields({ label: T('field.new_password'), email: () => email, idPrefix: 'chg' });
  const form = h('form', { class: 'form', novalidate: true },
    h('input', { type: 'email', autocomplete: 'username', value: email, hidden: true, readonly: true, tabindex: '-1', 'aria-hidden': 'true' }),
    done.box, alert.box, current.wrap, pair.elements,
    h('div', { class: 'actions' }, submit(T('security.change_submit'), { id: 'chg-submit' })),
    busyLine());

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    alert.clear();
    done.clear();
    if (!current.input.value) {
      current.setError(T('field.password_required'));
      current.input.focus();
      return;
    }
    current.setError(null);
    if (!pair.check()) return;
    if (pair.value() === current.input.value) {
      alert.show(T('security.same_password'));
      pair.input.focus();
      return;
    }
    const { serverSalt, kdf, kdfEmail } = state.kdfParams();
    const encKey = state.encKey();
    if (!serverSalt || !kdf || !encKey) return alert.show(T('err.unexpected'));
    try {
      await whileBusy(form, T('busy.deriving'), async (say) => {
        // The current password with the salt it was set with; the new one from the canonical
        // email, as PROTOCOL §2 says (the server then forgets any other kdfEmail).
        const proof = await zk.deriveKeys(current.input.value, email, serverSalt, kdf, { kdfEmail });
        say(T('busy.deriving_new'));
        const next = await zk.deriveKeys(pair.value(), email, serverSalt, kdf);
        const card = state.card();
        say(T('busy.rewrapping'));
        /** @type {Record<string, unknown>} */
        const body = { hashKey: proof.hashKeyB64u, newHashKey: next.hashKeyB64u };
        if (card) body.wrapped_card_key = await zk.rewrapCardKey(encKey, card.wrappedCardKey, next.encKey);
        await api.post('/auth/change-password', body);
        state.setEncKey(next.encKey);
        if (card) state.updateCard({ wrappedCardKey: /** @type {string} */ (body.wrapped_card_key) });
      });
    } catch (err) {
      if (err instanceof api.ApiError && err.code === 'wrong_password') {
        current.setError(T('err.wrong_password'));
        current.input.value = '';
        current.input.focus();
      } else {
        alert.show(errorText(err));
      }
      return;
    }
    current.input.value = '';
    pair.clear();
    done.show(T('security.changed'));
    onChanged();
  });

  return h('section', { class: 'panel', id: 'password', 'aria-labelledby': 'chg-h' },
    h('h2', { id: 'chg-h', text: T('security.change_title') }),
    h('p', { text: T('security.change_lead') }),
    form);
}

/** "Chrome · Linux" from a user agent string; the raw string stays available beside it. */
function device(ua) {
  const browser = [['YaBrowser', 'Yandex Browser'], ['Edg', 'Edge'], ['OPR', 'Opera'], ['Firefox', 'Firefox'],
    ['Chromium', 'Chromium'], ['Chrome', 'Chrome'], ['Safari', 'Safari'], ['cardcoop-python', 'cardcoop SDK']]
    .find(([needle]) => ua.includes(needle))?.[1];
  const os = [['Android', 'Android'], ['iPhone', 'iOS'], ['iPad', 'iPadOS'], ['Windows', 'Windows'],
    ['Mac OS X', 'macOS'], ['Linux', 'Linux']].find(([needle]) => ua.includes(needle))?.[1];
  return [browser, os].filter(Boolean).join(' · ');
}

function sessionsSection() {
  const alert = alertBox();
  const list = h('ul', { class: 'sessions' });
  const section = h('section', { class: 'panel', id: 'sessions', 'aria-labelledby': 'ses-h' },
    h('h2', { id: 'ses-h', text: T('sessions.title') }),
    h('p', { text: T('sessions.lead') }),
    alert.box, list);

  async function refresh() {
    alert.clear();
    let sessions;
    try {
      ({ sessions } = await api.get('/auth/sessions'));
    } catch (err) {
      alert.show(errorText(err));
      return;
    }
    sessions.sort((/** @type {any} */ a, /** @type {any} */ b) => Number(b.current) - Number(a.current) ||
      String(b.last_used_at).localeCompare(String(a.last_used_at)));
    list.replaceChildren(...sessions.map(item));
  }

  /** @param {any} s */
  function item(s) {
    const headId = uid('ses');
    const name = device(s.user_agent || '') || s.user_agent || '?';
    const revoke = s.current ? h('span', { class: 'badge badge-current', text: T('sessions.this_device') })
      : button(T('sessions.revoke'), async () => {
        try {
          await api.del(`/auth/sessions/${encodeURIComponent(s.id)}`);
        } catch (err) {
          if (!(err instanceof api.ApiError && err.code === 'session_not_found')) {
            alert.show(errorText(err));
            return;
          }
        }
        await refresh();
        focus(section.querySelector('h2'));
      }, { class: 'btn btn-small btn-danger', 'aria-describedby': headId, dataset: { session: s.id } });
    return h('li', { class: ['session', s.current ? 'current' : ''], dataset: { current: String(s.current) } },
      h('div', { class: 'session-main' },
        h('h3', { id: headId, text: name }),
        h('p', { class: 'muted ua', text: s.user_agent || '—' }),
        h('p', { text: T('sessions.details', { ip: s.ip, created: D(s.created_at), used: D(s.last_used_at) }) })),
      h('div', { class: 'session-action' }, revoke));
  }

  void refresh();
  return { section, refresh };
}

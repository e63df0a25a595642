// Security settings: change the password (the same card key re-wrapped under the new enc_key,
// nothing re-encrypted), the recovery key, the open sessions with revoke buttons, logout, the
// export of everything stored (the card decrypted here, never on the server) and deletion.
import * as zk from '../../widget/src/crypto/index.js';
import * as api from '../api.js';
import * as state from '../state.js';
import { loadCard } from '../card.js';
import { whileBusy, busyLine } from '../busy.js';
import { focus, h, uid } from '../dom.js';
import { D, T } from '../i18n.js';
import { newPasswordFields } from '../password.js';
import { withPasswordProof } from '../proof.js';
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
      button(T('nav.logout'), () => void ctx.logout(), { class: 'btn', id: 'security-logout' })),
    exportSection(),
    deleteSection(ctx));
}

/** The download's name: card-coop-export-YYYY-MM-DD.json (the member's local date). */
function exportName(now = new Date()) {
  const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `card-coop-export-${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}.json`;
}

/**
 * GET /auth/export (everything as stored), then the card's personal data decrypted here with the
 * card key, and the whole offered as one JSON file. Nothing decrypted goes back to the server.
 * @param {any} doc
 */
async function decryptedExport(doc) {
  const encKey = state.encKey();
  if (doc.card) {
    if (!encKey) throw new Error('no enc_key in the session');
    const cardKey = await zk.unwrapCardKey(encKey, doc.card.wrapped_card_key);
    const { data } = await zk.decryptPersonalData(cardKey, doc.card.encrypted_personal_data);
    doc.card.personal_data = data;
  }
  doc.note = {
    ru: 'card.personal_data расшифрованы в вашем браузере; закрытые ключи аккаунтов в файл не входят (encrypted_account остаётся зашифрованным).',
    en: 'card.personal_data was decrypted in your browser; the accounts’ private keys are not included (encrypted_account stays encrypted).',
  };
  return doc;
}

function exportSection() {
  const alert = alertBox();
  const done = alertBox('success');
  const go = /** @type {HTMLButtonElement} */ (button(T('export.submit'), async () => {
    alert.clear();
    done.clear();
    const name = exportName();
    try {
      await whileBusy(section, T('busy.exporting'), async () => {
        const doc = await decryptedExport(await api.get('/auth/export'));
        const url = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: 'application/json' }));
        const a = h('a', { href: url, download: name, hidden: true });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 60_000);
      });
    } catch (err) {
      alert.show(errorText(err));
      return;
    }
    done.show(T('export.done', { name }));
  }, { class: 'btn', id: 'export-submit' }));
  const section = h('section', { class: 'panel', id: 'export', 'aria-labelledby': 'exp-h' },
    h('h2', { id: 'exp-h', text: T('export.title') }),
    h('p', { text: T('export.lead') }),
    done.box, alert.box,
    h('div', { class: 'actions' }, go),
    busyLine());
  return section;
}

/** @param {import('../main.js').Ctx} ctx */
function deleteSection(ctx) {
  const alert = alertBox();
  const email = /** @type {string} */ (state.email());
  const confirmId = uid('del-ok');
  const confirm = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', id: confirmId }));
  const password = field({ id: 'del-password', label: T('delete.password'), type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { class: 'form', novalidate: true },
    h('input', { type: 'email', autocomplete: 'username', value: email, hidden: true, readonly: true, tabindex: '-1', 'aria-hidden': 'true' }),
    alert.box,
    h('div', { class: 'check' }, confirm, h('label', { for: confirmId, text: T('delete.confirm') })),
    password.wrap,
    h('div', { class: 'actions' }, submit(T('delete.submit'), { id: 'del-submit', class: 'btn btn-danger' })),
    busyLine());

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    alert.clear();
    if (!confirm.checked) {
      alert.show(T('delete.confirm_required'));
      confirm.focus();
      return;
    }
    const deleted = await withPasswordProof({ form, password, alert, busy: T('busy.deriving') },
      async (proof, say) => {
        say(T('busy.deleting'));
        await api.post('/auth/delete-account', { hashKey: proof.hashKeyB64u });
      });
    if (!deleted) return;
    // The account is gone with its sessions: forget the keys and the card here too.
    state.clearSession();
    ctx.flash(T('delete.done', { email }));
    ctx.go('login');
  });

  return h('section', { class: 'panel panel-danger', id: 'delete-account', 'aria-labelledby': 'del-h' },
    h('h2', { id: 'del-h', text: T('delete.title') }),
    h('p', { text: T('delete.lead') }),
    form);
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

function sessionsSection() {
  const alert = alertBox();
  const list = h('ul', { class: 'sessions' });
  // "Sign out everywhere else": every other browser's session ends, and the cooperatives they
  // signed in to are told (back-channel logout).
  const others = button(T('sessions.revoke_others'), async () => {
    alert.clear();
    try {
      await api.post('/auth/sessions/revoke-others', undefined);
    } catch (err) {
      alert.show(errorText(err));
      return;
    }
    await refresh();
    focus(section.querySelector('h2'));
  }, { class: 'btn btn-small', id: 'revoke-others', hidden: true });
  const section = h('section', { class: 'panel', id: 'sessions', 'aria-labelledby': 'ses-h' },
    h('h2', { id: 'ses-h', text: T('sessions.title') }),
    h('p', { text: T('sessions.lead') }),
    alert.box, list, h('div', { class: 'actions' }, others));

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
    others.hidden = !sessions.some((/** @type {any} */ x) => !x.current);
  }

  /** @param {any} s */
  function item(s) {
    const headId = uid('ses');
    // Named by the server from the user agent (ua-parser), never the raw string.
    const name = s.device || T('sessions.unknown_device');
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
        h('p', { text: T('sessions.details', { ip: s.ip, created: D(s.created_at), used: D(s.last_used_at) }) })),
      h('div', { class: 'session-action' }, revoke));
  }

  void refresh();
  return { section, refresh };
}

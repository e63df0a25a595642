// The recovery key section of the security screen (PROTOCOL.md §3): 32 random bytes made here,
// shown ONCE in groups of four, and only after the member confirms writing it down does the
// server get recovery_auth (to check it later) and the card key wrapped under it. The key can be
// saved as a .txt file or printed from this page (both made here; nothing leaves the browser).
// A key used for a recovery is spent: the section then asks for a new one.
import * as zk from '../widget/src/crypto/index.js';
import * as api from './api.js';
import * as state from './state.js';
import { busyLine } from './busy.js';
import { h, uid } from './dom.js';
import { D, T } from './i18n.js';
import { alertBox, button, errorText, field, link, submit } from './ui.js';
import { withPasswordProof } from './proof.js';

/** @param {{onSaved?: () => void}} [opts] */
export function recoverySection(opts = {}) {
  const headId = uid('rk');
  const status = h('div', { class: 'rk-status', 'aria-live': 'polite' });
  const body = h('div');
  const done = alertBox('success');
  const section = h('section', { class: 'panel', id: 'recovery', 'aria-labelledby': headId },
    h('h2', { id: headId, text: T('recovery.title') }),
    h('p', { text: T('recovery.lead') }),
    done.box, status, body);

  async function refresh() {
    status.replaceChildren(h('p', { class: 'muted', text: T('common.loading') }));
    body.replaceChildren();
    let info;
    try {
      info = await api.get('/auth/recovery');
    } catch (err) {
      status.replaceChildren(h('p', { class: 'alert alert-error', text: errorText(err) }));
      return;
    }
    status.replaceChildren(h('p', { class: info.enabled ? 'ok' : 'warn', dataset: { enabled: String(info.enabled) },
      text: info.enabled ? T('recovery.enabled', { when: D(info.created_at) }) : T('recovery.disabled') }));
    if (!info.enabled && info.used_at) {
      status.append(h('p', { class: 'alert alert-warning', id: 'rk-spent', text: T('recovery.spent', { when: D(info.used_at) }) }));
    }
    if (!state.card()) {
      body.replaceChildren(h('p', {}, T('recovery.card_first'), ' ', link('card/new', T('card.issue_now'))));
      return;
    }
    body.replaceChildren(button(T(info.enabled ? 'recovery.replace' : 'recovery.create'), () => {
      done.clear();
      showNewKey();
    }, { class: 'btn btn-primary', id: 'rk-create' }));
  }

  function showNewKey() {
    const key = zk.generateRecoveryKey();
    const groups = zk.formatRecoveryKey(key).split('-');
    const alert = alertBox();
    const confirmId = uid('rk-ok');
    const confirm = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', id: confirmId }));
    const password = field({ id: 'rk-password', label: T('field.current_password'), type: 'password', autocomplete: 'current-password', required: true });
    const save = /** @type {HTMLButtonElement} */ (submit(T('recovery.save'), { disabled: true, id: 'rk-save' }));
    confirm.addEventListener('change', () => {
      save.disabled = !confirm.checked;
    });
    const copied = h('span', { class: 'copied', role: 'status' });
    const discard = () => {
      key.fill(0);
      void refresh();
    };
    const form = h('form', { class: 'form rk-form', novalidate: true },
      h('h3', { class: 'step-title', tabindex: '-1', text: T('recovery.your_key') }),
      h('p', { class: 'alert alert-warning', text: T('recovery.once') }),
      h('ol', { class: 'rk-groups', 'aria-label': T('recovery.groups_label', { count: groups.length }) },
        groups.map((g) => h('li', {}, h('code', { text: g })))),
      h('p', { class: 'actions' },
        button(T('recovery.copy'), async () => {
          try {
            await navigator.clipboard.writeText(groups.join('-'));
            copied.replaceChildren(h('span', { text: T('recovery.copied') }));
          } catch {
            copied.replaceChildren(h('span', { text: T('recovery.copy_failed') }));
          }
        }, { class: 'btn btn-small' }),
        button(T('recovery.download'), () => downloadKey(groups), { class: 'btn btn-small', id: 'rk-download' }),
        button(T('recovery.print'), () => printKey(groups), { class: 'btn btn-small', id: 'rk-print' }),
        copied),
      h('div', { class: 'check' }, confirm, h('label', { for: confirmId, text: T('recovery.written_down') })),
      alert.box,
      password.wrap,
      h('div', { class: 'actions' }, save, button(T('recovery.cancel'), discard, { class: 'btn btn-link' })),
      busyLine());

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      alert.clear();
      if (!confirm.checked) return confirm.focus();
      const card = state.card();
      const encKey = state.encKey();
      if (!card || !encKey) return alert.show(T('err.unexpected'));
      const saved = await withPasswordProof({ form, password, alert, busy: T('busy.deriving') },
        async (proof, say) => {
          say(T('busy.saving'));
          const wrapped = await zk.rewrapCardKey(encKey, card.wrappedCardKey, await zk.recoveryEncKey(key), { toVia: 'recovery' });
          await api.post('/auth/recovery', {
            hashKey: proof.hashKeyB64u,
            recovery_auth: await zk.recoveryAuthKey(key),
            recovery_wrapped_card_key: wrapped,
          });
        });
      if (!saved) return;
      key.fill(0);
      await refresh();
      done.show(T('recovery.saved'));
      opts.onSaved?.();
    });
    body.replaceChildren(form);
    /** @type {HTMLElement} */ (form.querySelector('h3')).focus();
  }

  void refresh();
  return section;
}

/** The text of the saved or printed key, in the member's language. @param {string[]} groups */
function keyText(groups) {
  const when = D(new Date().toISOString()).i18n();
  return [T('recovery.file_title').i18n(), '',
    T('recovery.file_account', { email: state.email() ?? '' }).i18n(),
    T('recovery.file_created', { when }).i18n(), '',
    groups.join('-'), '',
    T('recovery.file_note').i18n(), ''].join('\n');
}

/** @param {string[]} groups */
function downloadKey(groups) {
  const url = URL.createObjectURL(new Blob([keyText(groups)], { type: 'text/plain;charset=utf-8' }));
  const a = h('a', { href: url, download: 'card-coop-recovery-key.txt', hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * Print only the key: a hidden same-origin frame holding the text (no script in it; the page's
 * CSP allows it), printed and then removed.
 * @param {string[]} groups
 */
function printKey(groups) {
  const frame = /** @type {HTMLIFrameElement} */ (h('iframe', { class: 'print-frame', title: T('recovery.print'), hidden: true }));
  document.body.append(frame);
  const doc = /** @type {Document} */ (frame.contentDocument);
  const pre = doc.createElement('pre');
  pre.textContent = keyText(groups);
  doc.body.append(pre);
  const win = /** @type {Window} */ (frame.contentWindow);
  win.addEventListener('afterprint', () => frame.remove());
  win.focus();
  win.print();
  setTimeout(() => frame.remove(), 60_000);
}

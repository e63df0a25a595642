// Edit the card: the form prefilled with the decrypted data; PUT /card with the revision read.
// If someone saved in between (409 stale_revision), the stored version is loaded into the form
// and the member is told to check it and save again.
import * as api from '../api.js';
import * as authorize from '../authorize.js';
import * as state from '../state.js';
import { loadSchema, saveCard, validate } from '../card.js';
import { whileBusy, busyLine } from '../busy.js';
import { h } from '../dom.js';
import { T } from '../i18n.js';
import { cardForm } from '../form.js';
import { alertBox, errorText, link, submit, view } from '../ui.js';
import { ensureCard } from './card.js';

/** @param {import('../main.js').Ctx} ctx */
export default async function cardEditView(ctx) {
  const alert = alertBox();
  try {
    if (!(await ensureCard(ctx))) {
      ctx.go('card/new');
      return view(T('card_edit.title'));
    }
  } catch (err) {
    alert.show(errorText(err));
    return view(T('card_edit.title'), alert.box);
  }
  const schema = await loadSchema();
  const host = h('div');
  /** @type {ReturnType<typeof cardForm>} */
  let form;
  const unknown = h('div');

  const build = () => {
    const card = /** @type {import('../state.js').Card} */ (state.card());
    form = cardForm(schema, { initial: card.data, idPrefix: 'card', revalidate: validate });
    host.replaceChildren(form.element);
    const lost = form.unknownPaths();
    unknown.replaceChildren(lost.length
      ? h('div', { class: 'alert alert-warning', role: 'status' }, h('p', { text: T('card_edit.unknown_fields') }),
        h('ul', {}, lost.map((p) => h('li', {}, h('code', { text: p })))))
      : '');
  };
  build();

  const el = h('form', { class: 'form form-wide', novalidate: true, id: 'card-form' },
    alert.box, unknown, host,
    h('div', { class: 'actions' }, submit(T('card_edit.submit'), { id: 'card-submit' }), link('card', T('card_edit.cancel'), { class: 'btn' })),
    busyLine());

  el.addEventListener('submit', async (event) => {
    event.preventDefault();
    alert.clear();
    const data = form.collect();
    if (form.showProblems(await validate(data))) {
      form.focusSummary();
      return;
    }
    try {
      await whileBusy(el, T('busy.encrypting'), () => saveCard(data));
    } catch (err) {
      if (err instanceof api.ApiError && err.code === 'stale_revision') {
        build();
        alert.show(T('err.stale_revision'));
        alert.box.setAttribute('tabindex', '-1');
        alert.box.focus();
        return;
      }
      alert.show(errorText(err));
      return;
    }
    ctx.flash(T('card_edit.done'));
    ctx.go(authorize.home());
  });

  return view(T('card_edit.title'), h('p', { class: 'lead', text: T('card_edit.lead') }), el);
}

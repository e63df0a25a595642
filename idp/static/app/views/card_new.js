// Issue the card: choose the person type, fill the form built from the schema, validate in the
// browser, then encrypt under a fresh card key and POST /card/issue (ciphertext only).
import * as api from '../api.js';
import * as authorize from '../authorize.js';
import { issueCard, loadCard, loadSchema, validate } from '../card.js';
import { whileBusy, busyLine } from '../busy.js';
import { h } from '../dom.js';
import { T } from '../i18n.js';
import { STRINGS } from '../strings.js';
import { cardForm } from '../form.js';
import { alertBox, errorText, submit, view } from '../ui.js';
import { ensureCard } from './card.js';

/** @param {import('../main.js').Ctx} ctx */
export default async function cardNewView(ctx) {
  const alert = alertBox();
  try {
    if (await ensureCard(ctx)) {
      ctx.flash(T('card_new.already'), 'info');
      ctx.go(authorize.home());
      return view(T('card_new.title'));
    }
  } catch (err) {
    alert.show(errorText(err));
    return view(T('card_new.title'), alert.box);
  }
  const schema = await loadSchema();
  const form = cardForm(schema, { idPrefix: 'card', revalidate: validate });
  const el = h('form', { class: 'form form-wide', novalidate: true, id: 'card-form' },
    alert.box, form.element,
    h('div', { class: 'actions' }, submit(T('card_new.submit'), { id: 'card-submit' })),
    busyLine());

  el.addEventListener('submit', async (event) => {
    event.preventDefault();
    alert.clear();
    const data = form.collect();
    const problems = form.type() ? await validate(data) : [{ path: '/person_type', message_ru: STRINGS['form.choose_type'].ru, message_en: STRINGS['form.choose_type'].en }];
    if (form.showProblems(problems)) {
      form.focusSummary();
      return;
    }
    try {
      await whileBusy(el, T('busy.encrypting'), () => issueCard(data));
    } catch (err) {
      if (err instanceof api.ApiError && err.code === 'card_exists') {
        await loadCard().catch(() => undefined);
        ctx.flash(T('err.card_exists'), 'info');
        ctx.go(authorize.home());
        return;
      }
      alert.show(errorText(err));
      return;
    }
    ctx.flash(T('card_new.done'));
    ctx.go(authorize.home()); // back to a waiting cooperative's consent screen, if any
  });

  return view(T('card_new.title'),
    h('p', { class: 'lead', text: T('card_new.lead') }),
    el);
}

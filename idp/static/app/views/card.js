// The card, decrypted in this page: every field labelled by the schema, sections for nested
// objects. Problems against the schema (e.g. after a migration) are listed with a way to fix them.
import * as api from '../api.js';
import * as state from '../state.js';
import { loadCard, loadSchema, validate } from '../card.js';
import { h } from '../dom.js';
import { F, L, T, calendarDate, isText } from '../i18n.js';
import { problemText } from '../form.js';
import { branchFor, resolve } from '../schema.js';
import { alertBox, errorText, link, view } from '../ui.js';

/** @param {any} node */
const title = (node) => L({ ru: node.title ?? '', en: node['x-title-en'] });

/**
 * Make sure the card is loaded (after a login it already is). Returns false when the member has
 * no card yet.
 * @param {import('../main.js').Ctx} ctx
 */
export async function ensureCard(ctx) {
  if (state.card()) return true;
  if (state.hasNoCard()) return false;
  const loaded = await loadCard();
  if (loaded?.migratedFrom !== null && loaded?.migratedFrom !== undefined) {
    ctx.flash(T('card.migrated', { from: loaded.migratedFrom }));
  }
  return loaded !== null;
}

/**
 * A definition list of the card data, following the schema's order and titles.
 * @param {any} schema
 * @param {any} data
 */
export function cardDetails(schema, data) {
  const branch = branchFor(schema, data?.person_type);
  const head = h('p', { class: 'card-type' }, h('span', { class: 'badge', text: branch ? title(branch) : L({ ru: String(data?.person_type ?? '?') }) }));
  if (!branch) return h('div', { class: 'card-details' }, head, rawList(data));
  return h('div', { class: 'card-details', dataset: { personType: data.person_type } }, head, objectList(schema, branch, data, ''));
}

/** @param {any} schema @param {any} node @param {any} value @param {string} path */
function objectList(schema, node, value, path) {
  const rows = [];
  const sections = [];
  for (const [name, raw] of Object.entries(node.properties ?? {})) {
    const prop = resolve(schema, raw);
    if ('const' in prop || !(name in (value ?? {}))) continue;
    const item = value[name];
    if (prop.type === 'object') {
      sections.push(h('section', { class: 'card-section', dataset: { path: `${path}/${name}` } },
        h('h3', { text: title(prop) }), objectList(schema, prop, item, `${path}/${name}`)));
      continue;
    }
    rows.push(h('div', { class: 'row', dataset: { path: `${path}/${name}` } },
      h('dt', { text: title(prop) }),
      h('dd', { text: shown(prop, item) })));
  }
  const extra = Object.keys(value ?? {}).filter((k) => !(k in (node.properties ?? {})));
  return [h('dl', { class: 'fields' }, rows), sections, extra.length ? rawList(Object.fromEntries(extra.map((k) => [k, value[k]]))) : null];
}

/** @param {any} prop @param {any} item */
function shown(prop, item) {
  if (item === '' || item === null || item === undefined) return T('card.empty');
  if (Array.isArray(prop.enum) && prop['x-enum-titles']?.[item]) {
    return L({ ru: prop['x-enum-titles'][item], en: prop['x-enum-titles-en']?.[item] });
  }
  if (prop.format === 'date') return calendarDate(item);
  return typeof item === 'string' ? item : JSON.stringify(item);
}

/**
 * The schema node of the card's top-level field `name` (in the card's person_type branch; the
 * root's node for person_type itself, which carries the enum titles).
 * @param {any} schema
 * @param {any} data
 * @param {string} name
 */
function topNode(schema, data, name) {
  // Without the card (or of an unknown type), the first branch that has the field names it.
  const branches = data?.person_type ? [branchFor(schema, data.person_type)]
    : (schema.oneOf ?? []).map((/** @type {any} */ b) => resolve(schema, b));
  const raw = branches.find((b) => b?.properties?.[name])?.properties?.[name];
  const prop = raw ? resolve(schema, raw) : null;
  if (prop && !('const' in prop)) return prop;
  return schema.properties?.[name] ? resolve(schema, schema.properties[name]) : prop;
}

/**
 * The label of a top-level card field, as the card view shows it (the field name itself when the
 * schema does not know it).
 * @param {any} schema
 * @param {any} data
 * @param {string} name
 */
export function fieldTitle(schema, data, name) {
  const prop = topNode(schema, data, name);
  return prop?.title ? title(prop) : L({ ru: name });
}

/** @param {unknown} text */
const plain = (text) => (isText(text) ? /** @type {{i18n: () => string}} */ (text).i18n() : String(text));

/**
 * A one-line rendering of a top-level card field's value (a section such as the passport as
 * "Title: value; …"), in the current language.
 * @param {any} schema
 * @param {any} data
 * @param {string} name
 */
export function fieldValue(schema, data, name) {
  const prop = topNode(schema, data, name) ?? {};
  const value = data?.[name];
  return F(() => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      return Object.entries(value).map(([key, item]) => {
        const sub = prop.properties?.[key] ? resolve(schema, prop.properties[key]) : {};
        return `${sub.title ? title(sub).i18n() : key}: ${plain(shown(sub, item))}`;
      }).join('; ');
    }
    return plain(shown(prop, value));
  });
}

/**
 * Whether a card value counts as filled in (a section: any of its values).
 * @param {unknown} value
 * @returns {boolean}
 */
export function isFilled(value) {
  if (value === '' || value === null || value === undefined) return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.values(/** @type {object} */ (value)).some(isFilled);
  return true;
}

/** Fields the schema does not describe (an unmigrated or foreign card): shown as they are. */
function rawList(data) {
  return h('section', { class: 'card-section' }, h('h3', { text: T('card.other_fields') }),
    h('dl', { class: 'fields' }, Object.entries(data ?? {}).map(([k, v]) => h('div', { class: 'row' },
      h('dt', { text: k }), h('dd', { text: typeof v === 'string' ? v : JSON.stringify(v) })))));
}

/** @param {import('../main.js').Ctx} ctx */
export default async function cardView(ctx) {
  const alert = alertBox();
  let has;
  try {
    has = await ensureCard(ctx);
  } catch (err) {
    alert.show(err instanceof api.ApiError ? errorText(err) : T('card.cannot_open'));
    return view(T('card.title'), alert.box);
  }
  if (!has) {
    return view(T('card.title'),
      h('p', { class: 'lead', text: T('card.none') }),
      h('p', {}, link('card/new', T('card.issue_now'), { class: 'btn btn-primary' })));
  }
  const card = /** @type {import('../state.js').Card} */ (state.card());
  const schema = await loadSchema();
  const problems = await validate(card.data).catch((err) => {
    console.error(err); // the card still shows; only the check is missing
    return [];
  });
  const warn = problems.length
    ? h('div', { class: 'alert alert-warning', role: 'status' },
      h('p', { text: T('card.needs_fixing') }),
      h('ul', {}, problems.map((p) => h('li', { text: problemText(p) }))),
      h('p', {}, link('card/edit', T('card.fix_now'))))
    : null;
  const recovery = h('div', { class: 'recovery-hint' });
  api.get('/auth/recovery').then((status) => {
    if (!status.enabled) {
      recovery.replaceChildren(h('div', { class: 'alert alert-info', role: 'status' },
        h('p', { text: T('card.no_recovery') }), h('p', {}, link('security', T('card.setup_recovery')))));
    }
  }).catch(() => undefined);
  return view(T('card.title'),
    h('p', { class: 'lead', text: T('card.lead') }),
    warn,
    recovery,
    h('article', { class: 'member-card', 'aria-label': T('card.title') }, cardDetails(schema, card.data)),
    h('p', { class: 'card-number' }, h('span', { text: T('card.number') }), ' ',
      h('span', { class: 'card-number-value', text: formatCardNumber(card.number) })),
    // Technical details, out of the member's way until asked for.
    h('details', { class: 'card-tech' }, h('summary', { text: T('card.tech') }),
      h('p', { class: 'meta-line', text: T('card.meta', { version: card.meta.version, revision: card.revision }) })),
    h('div', { class: 'actions' },
      link('card/edit', T('card.edit'), { class: 'btn btn-primary', id: 'card-edit' }),
      link('accounts', T('accounts.title'), { class: 'btn' })));
}

/** "2816307374089570" → "2816 3073 7408 9570": easier to read aloud and to compare. */
function formatCardNumber(/** @type {string | undefined} */ number) {
  return (number ?? '').replace(/(\d{4})(?=\d)/g, '$1 ');
}

// The card form, built from the card's JSON Schema (GET /card/schema): the person type as three
// radio buttons, the chosen branch's fields labelled with their titles (title / x-title-en),
// nested objects as fieldsets, enum values as selects. Problems from validateCard are shown at
// their field (aria-invalid + aria-describedby) and in a summary whose links focus the field.
// What the member types is saved in the card's stored form (widget/src/card/normalize.js): the
// phone in E.164 ("8 912 345-67-89" → "+79123456789"), the passport as the schema wants it
// ("45 06" → "4506"); what cannot be read is left as typed for the validator to explain.
import { normalizeCard } from '../widget/src/card/normalize.js';
import { focus, h } from './dom.js';
import { F, L, T, bindText, getLang } from './i18n.js';
import { setFieldError } from './ui.js';
import { branchFor, resolve } from './schema.js';

// Browser autofill hints for the member's own fields (not for a representative's).
const AUTOCOMPLETE = {
  '/last_name': 'family-name', '/first_name': 'given-name', '/middle_name': 'additional-name',
  '/birthdate': 'bday', '/phone': 'tel', '/email': 'email', '/full_address': 'street-address',
  '/country': 'country-name', '/city': 'address-level2',
};

// Passport parts are typed as printed ("45 06", "770 001"): room for the separators, which
// normalizeCard removes (maxlength would silently cut "45 06" to "45 0").
const SEPARATOR_ROOM = { '/passport/series': 4, '/passport/number': 4, '/passport/code': 4 };

/** @param {any} node */
const title = (node) => L({ ru: node.title ?? '', en: node['x-title-en'] });

/** @param {{path: string, message_ru: string, message_en: string}} problem */
export const problemText = (problem) => F(() => (getLang() === 'en' ? problem.message_en : problem.message_ru));

/**
 * Flatten card data into JSON Pointer → string value.
 * @param {any} data
 * @param {string} [path]
 * @param {Map<string, string>} [out]
 */
export function flatten(data, path = '', out = new Map()) {
  if (data && typeof data === 'object' && !Array.isArray(data)) {
    for (const [key, value] of Object.entries(data)) flatten(value, `${path}/${key}`, out);
  } else if (path) {
    out.set(path, typeof data === 'string' ? data : JSON.stringify(data));
  }
  return out;
}

/**
 * @param {any} schema the card schema
 * @param {{initial?: any, idPrefix?: string, revalidate?: (data: any) => Promise<any[]>}} [opts]
 */
export function cardForm(schema, opts = {}) {
  const prefix = opts.idPrefix ?? 'card';
  const typeNode = schema.properties.person_type;
  /** @type {Map<string, {input: HTMLInputElement | HTMLSelectElement, error: HTMLElement, node: any}>} */
  let fields = new Map();
  /** @type {Map<string, {box: HTMLElement, error: HTMLElement}>} */
  let groups = new Map();
  /** @type {any} */
  let branch = null;
  let attempted = false;

  const summary = h('div', { class: 'error-summary', tabindex: '-1', role: 'alert', hidden: true });
  const host = h('div', { class: 'card-fields' });
  const typeError = h('p', { class: 'field-error', id: `${prefix}-type-error`, hidden: true });
  const radios = typeNode.enum.map((/** @type {string} */ value) => {
    const id = `${prefix}-type-${value}`;
    const input = /** @type {HTMLInputElement} */ (h('input', { type: 'radio', name: `${prefix}-person-type`, id, value }));
    input.addEventListener('change', () => {
      render(value, currentValues());
      showProblems([]); // a new set of fields starts without complaints
      attempted = false;
    });
    return h('div', { class: 'choice' }, input, h('label', {
      for: id,
      text: L({ ru: typeNode['x-enum-titles']?.[value] ?? value, en: typeNode['x-enum-titles-en']?.[value] }),
    }));
  });
  const typeSet = h('fieldset', { class: 'person-type', 'aria-describedby': typeError.id },
    h('legend', { text: title(typeNode) }), h('div', { class: 'choices' }, radios), typeError);
  const element = h('div', { class: 'card-form' }, summary, typeSet, host);

  /** The values typed so far, by pointer (kept across a change of person type). */
  function currentValues() {
    const out = new Map();
    for (const [path, f] of fields) if (f.input.value !== '') out.set(path, f.input.value);
    return out;
  }

  /**
   * @param {string} type
   * @param {Map<string, string>} values
   */
  function render(type, values) {
    branch = branchFor(schema, type);
    fields = new Map();
    groups = new Map();
    element.dataset.personType = type;
    for (const radio of element.querySelectorAll(`input[name="${prefix}-person-type"]`)) {
      /** @type {HTMLInputElement} */ (radio).checked = /** @type {HTMLInputElement} */ (radio).value === type;
    }
    host.replaceChildren(...(branch ? objectFields(branch, '', true, values) : []));
  }

  /**
   * @param {any} node a resolved object schema
   * @param {string} path
   * @param {boolean} required whether the object itself must be present
   * @param {Map<string, string>} values
   * @returns {HTMLElement[]}
   */
  function objectFields(node, path, required, values) {
    const out = [];
    for (const [name, raw] of Object.entries(node.properties ?? {})) {
      const prop = resolve(schema, raw);
      if ('const' in prop) continue;
      const ptr = `${path}/${name}`;
      const req = (node.required ?? []).includes(name);
      if (prop.type === 'object') out.push(group(prop, ptr, req, values));
      else out.push(leaf(prop, ptr, req, values.get(ptr) ?? ''));
    }
    return out;
  }

  /** @param {any} node @param {string} ptr @param {boolean} req @param {Map<string, string>} values */
  function group(node, ptr, req, values) {
    const error = h('p', { class: 'field-error', id: `${idOf(ptr)}-error`, hidden: true });
    const box = h('fieldset', { class: 'group', id: idOf(ptr), dataset: { path: ptr } },
      h('legend', { text: title(node) }),
      req ? null : h('p', { class: 'hint', text: T('form.optional_group') }),
      error,
      objectFields(node, ptr, req, values));
    groups.set(ptr, { box, error });
    return box;
  }

  /** @param {string} ptr */
  function idOf(ptr) {
    return prefix + ptr.replaceAll('/', '-');
  }

  /** @param {any} node @param {string} ptr @param {boolean} req @param {string} value */
  function leaf(node, ptr, req, value) {
    const id = idOf(ptr);
    const hintId = `${id}-hint`;
    const hints = [];
    if (node['x-expected']) hints.push(T('form.expected', { what: L({ ru: node['x-expected'], en: node['x-expected-en'] }) }));
    else if (node.description && node.format !== 'date') hints.push(L({ ru: node.description, en: node['x-description-en'] }));
    let input;
    if (Array.isArray(node.enum)) {
      input = /** @type {HTMLSelectElement} */ (h('select', { id, name: ptr },
        h('option', { value: '', text: T('form.choose') }),
        node.enum.map((/** @type {string} */ v) => h('option', {
          value: v, text: L({ ru: node['x-enum-titles']?.[v] ?? v, en: node['x-enum-titles-en']?.[v] }),
        }))));
    } else {
      const digits = typeof node.pattern === 'string' && /^\^\[0-9\]\{\d+\}\$$/.test(node.pattern);
      input = /** @type {HTMLInputElement} */ (h('input', {
        id,
        name: ptr,
        type: node.format === 'date' ? 'date' : node.format === 'email' ? 'email' : node.format === 'ru-phone' ? 'tel' : 'text',
        inputmode: digits ? 'numeric' : undefined,
        maxlength: node.maxLength === undefined ? undefined
          : node.maxLength + (SEPARATOR_ROOM[/** @type {keyof typeof SEPARATOR_ROOM} */ (ptr)] ?? 0),
        autocomplete: AUTOCOMPLETE[/** @type {keyof typeof AUTOCOMPLETE} */ (ptr)] ?? (ptr.split('/').length > 2 ? 'off' : undefined),
        spellcheck: 'false',
      }));
    }
    input.value = value;
    if (req) input.setAttribute('aria-required', 'true');
    if (hints.length) input.setAttribute('aria-describedby', hintId);
    const error = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
    input.addEventListener('change', () => {
      if (attempted) revalidate();
    });
    fields.set(ptr, { input, error, node });
    return h('div', { class: 'field', dataset: { path: ptr } },
      h('label', { for: id }, h('span', { text: title(node) }),
        req ? h('span', { class: 'req', text: T('form.required_mark'), 'aria-hidden': 'true' })
          : h('span', { class: 'opt', text: T('form.optional') })),
      hints.length ? h('p', { class: 'hint', id: hintId, text: hints[0] }) : null,
      input,
      error);
  }

  /**
   * The card data from the form: empty fields left out (so "required" problems point at them),
   * an optional section only when something in it is filled, a required empty-able field
   * (middle_name) as "".
   */
  function collect() {
    if (!branch) return {};
    return normalizeCard(collectObject(branch, '').value);
  }

  /** @param {any} node @param {string} path @returns {{value: any, any: boolean}} */
  function collectObject(node, path) {
    /** @type {Record<string, any>} */
    const value = {};
    let any = false;
    for (const [name, raw] of Object.entries(node.properties ?? {})) {
      const prop = resolve(schema, raw);
      const ptr = `${path}/${name}`;
      const req = (node.required ?? []).includes(name);
      if ('const' in prop) {
        value[name] = prop.const;
      } else if (prop.type === 'object') {
        const sub = collectObject(prop, ptr);
        if (sub.any || req) value[name] = sub.value;
        any ||= sub.any;
      } else {
        const text = (fields.get(ptr)?.input.value ?? '').trim();
        if (text !== '') {
          value[name] = text;
          any = true;
        } else if (req && prop.minLength === 0) {
          value[name] = '';
        }
      }
    }
    return { value, any };
  }

  /**
   * Show problems at their fields and in the summary; returns how many there are.
   * @param {Array<{path: string, message_ru: string, message_en: string}>} problems
   */
  function showProblems(problems) {
    attempted = true;
    for (const f of fields.values()) setFieldError(f.input, f.error, null);
    for (const g of groups.values()) {
      g.error.hidden = true;
      g.box.removeAttribute('aria-invalid');
    }
    setTypeError(null);
    const items = [];
    // The summary lists problems in the order of the form, not of their paths.
    const order = [...fields.keys()];
    const rank = (/** @type {string} */ path) => {
      const at = order.findIndex((p) => p === path || p.startsWith(`${path}/`));
      return at < 0 ? order.length : at;
    };
    for (const problem of [...problems].sort((a, b) => rank(a.path) - rank(b.path))) {
      const text = problemText(problem);
      /** @type {HTMLElement | null} */
      let target = null;
      const f = fields.get(problem.path);
      if (f) {
        setFieldError(f.input, f.error, text);
        target = f.input;
      } else if (problem.path === '/person_type' || problem.path === '') {
        setTypeError(text);
        target = /** @type {HTMLElement} */ (element.querySelector('input[type="radio"]'));
      } else {
        const g = nearestGroup(problem.path);
        if (g) {
          bindText(g.error, text);
          g.error.hidden = false;
          g.box.setAttribute('aria-invalid', 'true');
          target = g.box;
        }
      }
      items.push(h('li', {}, target
        ? h('a', { href: `#${target.id}`, text, onClick: (/** @type {Event} */ e) => { e.preventDefault(); focus(target); } })
        : h('span', { text })));
    }
    summary.replaceChildren(
      h('h2', { text: T('form.summary_title', { count: problems.length }) }),
      h('ul', {}, items));
    summary.hidden = problems.length === 0;
    return problems.length;
  }

  /** @param {string} path */
  function nearestGroup(path) {
    for (let p = path; p.includes('/'); p = p.slice(0, p.lastIndexOf('/'))) {
      const g = groups.get(p);
      if (g) return g;
    }
    return null;
  }

  /** @param {{i18n: () => string} | null} text */
  function setTypeError(text) {
    if (text) {
      bindText(typeError, text);
      typeError.hidden = false;
    } else {
      typeError.hidden = true;
    }
  }

  async function revalidate() {
    if (opts.revalidate) showProblems(await opts.revalidate(collect()));
  }

  const initial = opts.initial ?? null;
  if (initial?.person_type) render(initial.person_type, flatten(initial));

  return {
    element,
    collect,
    showProblems,
    clearProblems: () => showProblems([]),
    focusSummary: () => focus(summary),
    /** The chosen person type, or null before a choice. */
    type: () => /** @type {string | null} */ (element.dataset.personType ?? null),
    /** Pointers of the initial data that the form has no field for (they are dropped on save). */
    unknownPaths: () => [...flatten(initial ?? {}).keys()].filter((p) => p !== '/person_type' && !fields.has(p)),
  };
}

// Every user-visible string of the member app goes through here. Russian is the default;
// English is the other choice, remembered in localStorage (the only thing the app stores).
// Texts are bound to their DOM nodes, so switching the language relabels the page in place
// without re-rendering it: what the member typed and where a multi-step form stands survive.
import { STRINGS } from './strings.js';

export const LANGS = /** @type {const} */ (['ru', 'en']);
const STORAGE_KEY = 'cardcoop.lang';
const LOCALES = { ru: 'ru-RU', en: 'en-GB' };

/** @type {'ru' | 'en'} */
let lang = readStoredLang();
/** @type {Set<WeakRef<Node>>} */
const bound = new Set();
/** @type {WeakMap<Node, Array<[string | null, Text_]>>} */
const bindings = new WeakMap();
/** @type {Set<(lang: string) => void>} */
const listeners = new Set();

/** @typedef {{ i18n: () => string }} Text_ */

function readStoredLang() {
  // What the page was opened for, for this page only (not stored): the card frame's `lang`
  // (the embedding app's language) or an authorization request's ui_locales (OpenID Connect
  // Core §3.1.2.1: the first of the preferred tags that the app speaks).
  const params = new URLSearchParams(globalThis.location?.search ?? '');
  for (const tag of [params.get('lang') ?? '', ...(params.get('ui_locales') ?? '').split(' ')]) {
    const base = tag.toLowerCase().split('-')[0];
    if (base === 'ru' || base === 'en') return base;
  }
  try {
    const stored = globalThis.localStorage?.getItem(STORAGE_KEY);
    if (stored === 'ru' || stored === 'en') return stored;
  } catch {
    // Storage may be disabled (privacy mode); the default applies.
  }
  return 'ru';
}

export function getLang() {
  return lang;
}

export function locale() {
  return LOCALES[lang];
}

/**
 * Switch the language: relabel every bound node, tell the listeners, remember the choice.
 * @param {string} next
 */
export function setLang(next) {
  if (next !== 'ru' && next !== 'en') return;
  lang = next;
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, next);
  } catch {
    // Not remembered; the switch still applies to this page.
  }
  document.documentElement.lang = next;
  for (const ref of [...bound]) {
    const node = ref.deref();
    if (!node) {
      bound.delete(ref);
      continue;
    }
    apply(node);
  }
  for (const listener of listeners) listener(next);
}

/** @param {(lang: string) => void} listener */
export function onLangChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * The string `key` in the current language, `{name}` placeholders filled from params.
 * A missing key shows itself (and is caught by the e2e screenshots), never crashes the page.
 * @param {string} key
 * @param {Record<string, unknown>} [params]
 */
export function t(key, params) {
  const entry = STRINGS[key];
  const text = entry ? entry[lang] ?? entry.ru : key;
  return fill(text, params);
}

/**
 * @param {string} text
 * @param {Record<string, unknown>} [params]
 */
function fill(text, params) {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) => {
    const value = params[name];
    if (value === undefined) return whole;
    return isText(value) ? /** @type {Text_} */ (value).i18n() : String(value);
  });
}

/** A bindable text for `key` (see dom.js h()). */
export function T(key, params) {
  return { i18n: () => t(key, params) };
}

/**
 * A bindable text from a {ru, en} pair, e.g. a schema title and its x-title-en.
 * @param {{ru: string, en?: string}} pair
 */
export function L(pair) {
  return { i18n: () => (lang === 'en' && pair.en ? pair.en : pair.ru) };
}

/** A bindable text computed by `fn` each time the language changes. */
export function F(fn) {
  return { i18n: fn };
}

/** @param {unknown} value */
export function isText(value) {
  return typeof value === 'object' && value !== null && typeof (/** @type {any} */ (value).i18n) === 'function';
}

/**
 * @param {Node} node
 * @param {string | null} attr null for the text content
 * @param {Text_} text
 */
function register(node, attr, text) {
  let list = bindings.get(node);
  if (!list) {
    list = [];
    bindings.set(node, list);
    bound.add(new WeakRef(node));
  }
  const at = list.findIndex(([a]) => a === attr);
  if (at >= 0) list[at] = [attr, text];
  else list.push([attr, text]);
  apply(node);
  return node;
}

/** @param {Node} node */
function apply(node) {
  for (const [attr, text] of bindings.get(node) ?? []) {
    if (attr === null) node.textContent = text.i18n();
    else /** @type {Element} */ (node).setAttribute(attr, text.i18n());
  }
}

/**
 * Bind the text content of `node` to `text` (replaces any previous binding).
 * @template {Node} N
 * @param {N} node
 * @param {Text_} text
 * @returns {N}
 */
export function bindText(node, text) {
  return /** @type {N} */ (register(node, null, text));
}

/**
 * @template {Element} E
 * @param {E} el
 * @param {string} attr
 * @param {Text_} text
 * @returns {E}
 */
export function bindAttr(el, attr, text) {
  return /** @type {E} */ (register(el, attr, text));
}

/** The member's time zone: times are shown in Moscow time (the cooperatives' registry's). */
export const TIME_ZONE = 'Europe/Moscow';
const ZONE_NAME = { ru: 'МСК', en: 'Moscow time' };

/**
 * A moment as the member reads it: in the current language, in Moscow time, named as such
 * ("2 дек. 2026 г., 09:05 МСК" / "2 Dec 2026, 09:05 Moscow time"). An ISO string without an
 * offset is UTC (what the server writes); anything unreadable is shown as it is.
 * @param {Date | string | number} date
 * @param {Intl.DateTimeFormatOptions} [options]
 */
export function formatTime(date, options = { dateStyle: 'medium', timeStyle: 'short' }) {
  const raw = typeof date === 'string' && /^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(date) ? `${date}Z` : date;
  const when = raw instanceof Date ? raw : new Date(raw);
  if (Number.isNaN(when.getTime())) return String(date);
  const text = new Intl.DateTimeFormat(locale(), { ...options, timeZone: TIME_ZONE }).format(when);
  return 'timeStyle' in options || 'hour' in options ? `${text} ${ZONE_NAME[lang]}` : text;
}

/**
 * A date-time (ISO string) as a bindable text: formatTime, again on a language switch.
 * @param {string | null | undefined} iso
 * @param {Intl.DateTimeFormatOptions} [options]
 */
export function D(iso, options = { dateStyle: 'medium', timeStyle: 'short' }) {
  return F(() => (iso ? formatTime(iso, options) : '—'));
}

/**
 * A calendar date "YYYY-MM-DD" shown as the member expects it (31.12.1990 / 31 Dec 1990),
 * without time-zone shifts. Anything else is shown as it is.
 * @param {string} value
 */
export function calendarDate(value) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(value));
  if (!m) return F(() => String(value));
  const when = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return F(() => new Intl.DateTimeFormat(locale(), { dateStyle: 'long', timeZone: 'UTC' }).format(when));
}

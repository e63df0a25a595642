// DOM building without HTML strings: every text goes through textContent (or a bound i18n text
// node), every handler through addEventListener. The page's CSP (script-src 'self',
// style-src 'self') forbids inline handlers and style attributes, so h() refuses both.
import { bindAttr, bindText, isText } from './i18n.js';

let lastId = 0;

/** A unique element id with a readable prefix. */
export function uid(prefix = 'id') {
  lastId += 1;
  return `${prefix}-${lastId}`;
}

/**
 * Create an element. props: class (string or array), text, on<Event> (function), dataset,
 * aria-* / any attribute (string, number, true for a boolean attribute; false/null skip it).
 * An attribute whose value is an i18n text (T(...)/L(...)) follows the language.
 * Children: nodes, strings, i18n texts, arrays, null.
 * @param {string} tag
 * @param {Record<string, any>} [props]
 * @param {...any} children
 * @returns {HTMLElement}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'style' || /^on[a-z]+$/.test(key)) throw new Error(`h(): ${key} is not allowed (CSP)`);
    if (key === 'class') {
      el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : String(value);
    } else if (key === 'text') {
      if (isText(value)) bindText(el, value);
      else el.textContent = String(value);
    } else if (/^on[A-Z]/.test(key)) {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (isText(value)) {
      bindAttr(el, key, value);
    } else if (value === true) {
      el.setAttribute(key, '');
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

/**
 * @param {Node} parent
 * @param {any[]} children
 */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    if (child instanceof Node) parent.appendChild(child);
    else if (isText(child)) parent.appendChild(bindText(document.createTextNode(''), child));
    else parent.appendChild(document.createTextNode(String(child)));
  }
  return parent;
}

/** Replace all children of `parent`. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

/** Move focus to `el` (a heading gets tabindex=-1 so it can take focus without a tab stop). */
export function focus(el) {
  if (!el) return;
  if (!el.hasAttribute('tabindex') && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(el.tagName)) {
    el.setAttribute('tabindex', '-1');
  }
  el.focus({ preventScroll: false });
}

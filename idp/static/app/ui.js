// Small building blocks shared by the views: the view heading, labelled fields with their hint
// and error wired through aria-describedby, alert boxes, and the translation of API errors.
import { focus, h, uid } from './dom.js';
import { ApiError } from './api.js';
import { STRINGS } from './strings.js';
import { T, F, bindText } from './i18n.js';

/**
 * A view: its <h1> (focused on navigation) and content.
 * @param {{i18n: () => string}} title
 * @param {...any} children
 */
export function view(title, ...children) {
  return h('section', { class: 'view' }, h('h1', { class: 'view-title', tabindex: '-1', text: title }), children);
}

/**
 * A labelled input with an optional hint and an error line.
 * @param {{label: any, type?: string, name?: string, autocomplete?: string, hint?: any,
 *          inputmode?: string, value?: string, required?: boolean, id?: string,
 *          maxlength?: number, spellcheck?: boolean, rows?: number}} opts
 */
export function field(opts) {
  const id = opts.id ?? uid('f');
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const input = /** @type {HTMLInputElement} */ (h(opts.rows ? 'textarea' : 'input', {
    id,
    name: opts.name ?? id,
    type: opts.rows ? undefined : opts.type ?? 'text',
    rows: opts.rows,
    autocomplete: opts.autocomplete,
    inputmode: opts.inputmode,
    maxlength: opts.maxlength,
    spellcheck: opts.spellcheck === false ? 'false' : undefined,
    'aria-required': opts.required ? 'true' : undefined,
    'aria-describedby': opts.hint ? hintId : undefined,
  }));
  if (opts.value) input.value = opts.value;
  const error = h('p', { class: 'field-error', id: errorId, hidden: true });
  const wrap = h('div', { class: 'field' },
    h('label', { for: id, text: opts.label }),
    opts.hint ? h('p', { class: 'hint', id: hintId, text: opts.hint }) : null,
    input,
    error);
  // Typing again is the answer to the complaint: it goes until the next check.
  input.addEventListener('input', () => {
    if (!error.hidden) setFieldError(input, error, null);
  });
  return { wrap, input, error, setError: (/** @type {any} */ text) => setFieldError(input, error, text) };
}

/**
 * Show (text) or clear (null) a field's error: aria-invalid and aria-describedby follow.
 * @param {HTMLElement} input
 * @param {HTMLElement} error
 * @param {{i18n: () => string} | null} text
 */
export function setFieldError(input, error, text) {
  const ids = new Set((input.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean));
  if (text) {
    bindText(error, text);
    error.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    ids.add(error.id);
  } else {
    error.textContent = '';
    error.hidden = true;
    input.removeAttribute('aria-invalid');
    ids.delete(error.id);
  }
  if (ids.size) input.setAttribute('aria-describedby', [...ids].join(' '));
  else input.removeAttribute('aria-describedby');
}

/** A message box for a form: role=alert so it is announced when it appears. */
export function alertBox(kind = 'error') {
  const box = h('div', { class: ['alert', `alert-${kind}`], role: kind === 'error' ? 'alert' : 'status', hidden: true });
  return {
    box,
    /** @param {{i18n: () => string}} text */
    show(text) {
      bindText(box, text);
      box.hidden = false;
    },
    clear() {
      box.textContent = '';
      box.hidden = true;
    },
  };
}

/** A submit button (type=submit) with a translated label. */
export function submit(label, extra = {}) {
  return h('button', { type: 'submit', class: 'btn btn-primary', text: label, ...extra });
}

/** A plain button. */
export function button(label, onClick, extra = {}) {
  return h('button', { type: 'button', class: 'btn', text: label, onClick, ...extra });
}

/** A link to a route of the app. */
export function link(route, label, extra = {}) {
  return h('a', { href: `#/${route}`, text: label, ...extra });
}

/**
 * What to tell the member about a failure: the translation of the server's stable code when we
 * have one, else a generic text (never a code or the server's English message: those go to the
 * developer console).
 * @param {unknown} err
 */
export function errorText(err) {
  if (err instanceof ApiError) {
    const key = `err.${err.code}`;
    if (err.code === 'rate_limited' || err.status === 429) {
      const wait = err.retryAfter ? T('err.retry_after', { seconds: err.retryAfter }) : null;
      const base = key in STRINGS ? T(key) : T('err.too_many_requests');
      return F(() => (wait ? `${base.i18n()} ${wait.i18n()}` : base.i18n()));
    }
    if (key in STRINGS) return T(key);
    console.warn(`no text for the error ${err.status} ${err.code}`);
    return T('err.generic');
  }
  console.error(err); // a bug or a crypto failure: the details are for the developer console
  return T('err.unexpected');
}

/** Focus the view heading (after navigation or a step change). */
export function focusHeading(root) {
  focus(root.querySelector('h2.step-title') ?? root.querySelector('h1'));
}

/**
 * One step of a multi-step view: "Шаг 2 из 3" and its <h2> (focused when the step appears).
 * @param {number} n
 * @param {number} total
 * @param {{i18n: () => string}} title
 * @param {...any} children
 */
export function step(n, total, title, ...children) {
  return h('div', { class: 'step', dataset: { step: String(n) } },
    h('p', { class: 'step-count', text: T('step.count', { n, total }) }),
    h('h2', { class: 'step-title', tabindex: '-1', text: title }),
    children);
}

/** Replace `host`'s content with `content` and move focus to its heading. */
export function showStep(host, content) {
  host.replaceChildren(content);
  focusHeading(host);
}

/**
 * Count down on a button ("Отправить ещё раз (через 42 с)") and enable it at zero.
 * @param {HTMLButtonElement} btn
 * @param {{i18n: () => string}} label
 * @param {number} seconds
 */
export function countdown(btn, label, seconds) {
  let left = Math.max(0, Math.ceil(seconds));
  const tick = () => {
    if (!btn.isConnected && left < seconds) {
      clearInterval(timer);
      return;
    }
    btn.disabled = left > 0;
    bindText(btn, left > 0 ? T('code.resend_in', { label, seconds: left }) : label);
    if (left <= 0) clearInterval(timer);
    left -= 1;
  };
  const timer = setInterval(tick, 1000);
  tick();
  return () => clearInterval(timer);
}

/**
 * The email field's value in its canonical form (PROTOCOL §1 email_norm), or null after showing
 * the problem at the field: an address the rule refuses (a mixed-script one gets its own text)
 * or without a dotted domain. The server checks again.
 * @param {{input: HTMLInputElement, setError: (text: any) => void}} email
 * @param {(value: string) => string} normalize throws an error with `code: 'invalid_email'`
 * @param {{focus?: boolean}} [options] focus the field on a problem (default true)
 */
export function checkedEmail(email, normalize, { focus: focusField = true } = {}) {
  let value = null;
  let problem = 'field.email_invalid';
  try {
    value = normalize(email.input.value);
  } catch (err) {
    if (/** @type {any} */ (err)?.code !== 'invalid_email') throw err;
    if (/** @type {any} */ (err).reason === 'mixed_script') problem = 'field.email_mixed_script';
  }
  if (value === null || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) {
    email.setError(T(problem));
    if (focusField) email.input.focus();
    return null;
  }
  email.setError(null);
  return value;
}

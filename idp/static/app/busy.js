// The busy state of a form: key derivation (600 000 PBKDF2 rounds) takes a noticeable moment,
// so the member sees what is happening, the form is aria-busy and its controls are disabled
// until the work ends, whatever its outcome.
//
// Why the progress is indeterminate (a moving bar, the step names, the seconds so far) and not a
// percentage: PBKDF2 runs in WebCrypto as one deriveBits call that reports nothing until it ends.
// A real figure would need the rounds computed in slices we can observe, and WebCrypto cannot
// continue a PBKDF2 from a previous slice (it returns the XOR of all rounds, not the last one).
// Doing the rounds ourselves (600 000 HMAC calls, or PBKDF2 in JavaScript) would be several
// times slower for the member while costing an attacker nothing more, so the keys stay in
// WebCrypto (identical to protocol/vectors-v1.json) and the page says honestly what it is doing.
// So that a fast machine shows no flicker, the busy line stays up at least MIN_VISIBLE_MS.
import { h } from './dom.js';
import { T, bindText } from './i18n.js';

/** The shortest time the busy line is shown, so that it reads as a state and not a flicker. */
export const MIN_VISIBLE_MS = 400;

/**
 * The status line a form shows while busy (role=status: screen readers announce it).
 * @returns {HTMLElement}
 */
export function busyLine() {
  return h('div', { class: 'busy', role: 'status', hidden: true },
    h('p', { class: 'busy-now' },
      h('span', { class: 'spinner', 'aria-hidden': 'true' }),
      h('span', { class: 'busy-text' }),
      h('span', { class: 'busy-elapsed', 'aria-hidden': 'true' })),
    // An indeterminate <progress> (no value): it moves, and claims no percentage.
    h('progress', { class: 'busy-progress', 'aria-hidden': 'true' }),
    h('ol', { class: 'busy-steps', hidden: true }));
}

/** Let the browser paint the busy state before heavy work starts. */
function nextPaint() {
  return new Promise((resolve) => {
    const done = () => resolve(undefined);
    if (typeof requestAnimationFrame === 'function') requestAnimationFrame(() => setTimeout(done, 0));
    setTimeout(done, 50); // rAF does not run in hidden tabs
  });
}

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Run `task` with `form` busy. `task` receives `say(text)` to change the status text between
 * steps ("Вычисляем ключ…" → "Входим…"). With `opts.steps` (the names of all the steps, the
 * first being `text`) the line also lists them: each `say` marks the current one done and moves
 * to the next.
 * @template T
 * @param {HTMLElement} form
 * @param {{i18n: () => string}} text
 * @param {(say: (text: {i18n: () => string}) => void) => Promise<T>} task
 * @param {{steps?: Array<{i18n: () => string}>}} [opts]
 * @returns {Promise<T>}
 */
export async function whileBusy(form, text, task, opts = {}) {
  const line = /** @type {HTMLElement} */ (form.querySelector(':scope .busy') ?? form.appendChild(busyLine()));
  const label = /** @type {HTMLElement} */ (line.querySelector('.busy-text'));
  const elapsed = /** @type {HTMLElement | null} */ (line.querySelector('.busy-elapsed'));
  const list = /** @type {HTMLElement | null} */ (line.querySelector('.busy-steps'));
  const steps = opts.steps ?? [];
  /** @type {HTMLElement[]} */
  const items = steps.map((name) => {
    const li = h('li', { class: 'busy-step' });
    bindText(li, name);
    return li;
  });
  let at = 0;
  const mark = () => items.forEach((li, i) => {
    li.classList.toggle('is-done', i < at);
    li.classList.toggle('is-current', i === at);
    if (i === at) li.setAttribute('aria-current', 'step');
    else li.removeAttribute('aria-current');
  });
  if (list) {
    list.replaceChildren(...items);
    list.hidden = items.length < 2;
  }
  const say = (/** @type {{i18n: () => string}} */ next) => {
    bindText(label, next);
    if (items.length && next !== text) {
      at = Math.min(at + 1, items.length - 1);
      mark();
    }
  };
  const controls = /** @type {NodeListOf<HTMLButtonElement | HTMLInputElement>} */ (
    form.querySelectorAll('button, input, select, textarea'));
  const before = [...controls].map((c) => c.disabled);
  const focused = document.activeElement;
  const started = Date.now();
  bindText(label, text);
  mark();
  if (elapsed) elapsed.textContent = '';
  // The seconds so far, from the second second on (a figure that is true, unlike a percentage).
  const ticker = setInterval(() => {
    const seconds = Math.floor((Date.now() - started) / 1000);
    if (elapsed && seconds >= 1) elapsed.textContent = ` · ${T('busy.elapsed', { seconds }).i18n()}`;
  }, 250);
  line.hidden = false;
  form.setAttribute('aria-busy', 'true');
  form.classList.add('is-busy');
  controls.forEach((c) => {
    c.disabled = true;
  });
  try {
    await nextPaint();
    return await task(say);
  } finally {
    const shown = Date.now() - started;
    if (shown < MIN_VISIBLE_MS) await sleep(MIN_VISIBLE_MS - shown);
    clearInterval(ticker);
    controls.forEach((c, i) => {
      c.disabled = before[i];
    });
    form.setAttribute('aria-busy', 'false');
    form.classList.remove('is-busy');
    line.hidden = true;
    // Disabling the focused button dropped focus to <body>; give it back if nothing took it.
    if (focused instanceof HTMLElement && focused.isConnected && !focused.hasAttribute('disabled') &&
        (document.activeElement === document.body || document.activeElement === null)) {
      focused.focus();
    }
  }
}

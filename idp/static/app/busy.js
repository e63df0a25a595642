// The busy state of a form: key derivation (600 000 PBKDF2 rounds) takes a noticeable moment,
// so the member sees a spinner and what is happening ("Вычисляем ключ…"), the form is
// aria-busy and its controls are disabled until the work ends, whatever its outcome.
import { h } from './dom.js';
import { bindText } from './i18n.js';

/**
 * The status line a form shows while busy (role=status: screen readers announce it).
 * @returns {HTMLElement}
 */
export function busyLine() {
  return h('p', { class: 'busy', role: 'status', hidden: true },
    h('span', { class: 'spinner', 'aria-hidden': 'true' }),
    h('span', { class: 'busy-text' }));
}

/** Let the browser paint the busy state before heavy work starts. */
function nextPaint() {
  return new Promise((resolve) => {
    const done = () => resolve(undefined);
    if (typeof requestAnimationFrame === 'function') requestAnimationFrame(() => setTimeout(done, 0));
    setTimeout(done, 50); // rAF does not run in hidden tabs
  });
}

/**
 * Run `task` with `form` busy. `task` receives `say(text)` to change the status text between
 * steps ("Вычисляем ключ…" → "Входим…").
 * @template T
 * @param {HTMLElement} form
 * @param {{i18n: () => string}} text
 * @param {(say: (text: {i18n: () => string}) => void) => Promise<T>} task
 * @returns {Promise<T>}
 */
export async function whileBusy(form, text, task) {
  const line = form.querySelector(':scope .busy') ?? form.appendChild(busyLine());
  const label = /** @type {HTMLElement} */ (line.querySelector('.busy-text'));
  const say = (/** @type {{i18n: () => string}} */ next) => bindText(label, next);
  const controls = /** @type {NodeListOf<HTMLButtonElement | HTMLInputElement>} */ (
    form.querySelectorAll('button, input, select, textarea'));
  const before = [...controls].map((c) => c.disabled);
  const focused = document.activeElement;
  say(text);
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

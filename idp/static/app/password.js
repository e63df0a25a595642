// New-password fields: the password, its confirmation and a strength hint. The password is the
// only thing between a stolen database and the card (600 000 PBKDF2 rounds slow guessing but
// cannot make a weak password strong), so the hint is honest and the minimum is real.
import { h } from './dom.js';
import { T, F, bindText } from './i18n.js';
import { field } from './ui.js';

export const MIN_LENGTH = 10;

const COMMON = [
  'password', 'passw0rd', 'qwerty', 'qwertyuiop', 'asdfgh', 'zxcvbn', 'letmein', 'welcome',
  'admin', 'iloveyou', 'monkey', 'dragon', 'пароль', 'йцукен', 'привет', 'любовь', '123456',
  '1234567890', '111111', '000000', 'abc123', 'cardcoop', 'card.coop',
];

/**
 * A rough estimate (0–4) in the spirit of zxcvbn: length and variety raise it; common words,
 * repeats, sequences and the email address lower it.
 * @param {string} password
 * @param {string} [email]
 * @returns {{score: number, tips: string[]}} tips are i18n keys
 */
export function strength(password, email = '') {
  const tips = [];
  if (!password) return { score: 0, tips: ['pw.tip_length'] };
  const lower = password.toLowerCase();
  const classes = [/[a-zа-яё]/, /[A-ZА-ЯЁ]/, /[0-9]/, /[^a-zA-Zа-яА-ЯёЁ0-9]/].filter((re) => re.test(password)).length;
  let bits = (password.length * Math.log2([10, 26, 36, 62, 95][classes] ?? 95)) / 2;
  if (COMMON.some((word) => lower.includes(word))) {
    bits -= 25;
    tips.push('pw.tip_common');
  }
  if (/(.)\1{2,}/.test(password)) {
    bits -= 10;
    tips.push('pw.tip_repeat');
  }
  if (/(?:0123|1234|2345|3456|4567|5678|6789|abcd|bcde|cdef|абвг)/i.test(password)) {
    bits -= 10;
    tips.push('pw.tip_sequence');
  }
  const local = email.split('@')[0]?.toLowerCase();
  if (local && local.length >= 3 && lower.includes(local)) {
    bits -= 20;
    tips.push('pw.tip_email');
  }
  if (password.length < MIN_LENGTH) tips.unshift('pw.tip_length');
  else if (password.length < 14 && classes < 3) tips.push('pw.tip_longer');
  const score = password.length < MIN_LENGTH ? Math.min(1, Math.floor(bits / 20)) : bits < 28 ? 1 : bits < 40 ? 2 : bits < 55 ? 3 : 4;
  return { score: Math.max(0, score), tips };
}

const LEVELS = ['pw.level0', 'pw.level1', 'pw.level2', 'pw.level3', 'pw.level4'];

/**
 * The new password and its confirmation, with a live strength hint.
 * @param {{label: {i18n: () => string}, email: () => string, idPrefix: string}} opts
 */
export function newPasswordFields({ label, email, idPrefix }) {
  const pw = field({ id: `${idPrefix}-password`, label, type: 'password', autocomplete: 'new-password', required: true,
    hint: T('pw.hint', { min: MIN_LENGTH }) });
  const confirm = field({ id: `${idPrefix}-confirm`, label: T('pw.confirm'), type: 'password', autocomplete: 'new-password', required: true });
  const meter = h('meter', { min: '0', max: '4', low: '2', high: '3', optimum: '4', value: '0', 'aria-hidden': 'true', class: 'pw-meter' });
  const levelText = h('span', { class: 'pw-level', 'aria-live': 'polite' });
  const tipsList = h('ul', { class: 'pw-tips' });
  const hint = h('div', { class: 'pw-strength', id: `${idPrefix}-strength` }, meter, levelText, tipsList);
  pw.input.setAttribute('aria-describedby', `${pw.input.getAttribute('aria-describedby') ?? ''} ${hint.id}`.trim());
  pw.wrap.insertBefore(hint, pw.error);

  const update = () => {
    const { score, tips } = strength(pw.input.value, email());
    meter.setAttribute('value', String(score));
    meter.dataset.score = String(score);
    bindText(levelText, F(() => `${T('pw.strength').i18n()}: ${T(LEVELS[score]).i18n()}`));
    tipsList.replaceChildren(...tips.map((key) => h('li', { text: T(key, { min: MIN_LENGTH }) })));
    hint.hidden = pw.input.value === '';
  };
  hint.hidden = true;
  pw.input.addEventListener('input', update);

  return {
    elements: [pw.wrap, confirm.wrap],
    input: pw.input,
    confirmInput: confirm.input,
    value: () => pw.input.value,
    /** Check the pair; show the problems; true when fine. */
    check() {
      let ok = true;
      const value = pw.input.value;
      if (value.length < MIN_LENGTH) {
        pw.setError(T('pw.too_short', { min: MIN_LENGTH }));
        ok = false;
      } else if (value.trim().toLowerCase() === email().trim().toLowerCase()) {
        pw.setError(T('pw.is_email'));
        ok = false;
      } else {
        pw.setError(null);
      }
      if (confirm.input.value !== value) {
        confirm.setError(T('pw.mismatch'));
        ok = false;
      } else {
        confirm.setError(null);
      }
      if (!ok) (pw.input.getAttribute('aria-invalid') ? pw.input : confirm.input).focus();
      return ok;
    },
    clear() {
      pw.input.value = '';
      confirm.input.value = '';
      update();
    },
  };
}

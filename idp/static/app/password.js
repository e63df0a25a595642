// New-password fields: the password, its confirmation and a strength meter. The password is the
// only thing between a stolen database and the card (600 000 PBKDF2 rounds slow guessing but
// cannot make a weak password strong), so the meter is honest and the rules are real:
//
// - the estimate is zxcvbn's (zxcvbn-ts with its common and English dictionaries, bundled in
//   /static/widget/dist/zxcvbn.js by widget/scripts/build.js), plus the common Russian passwords
//   below, in Cyrillic, transliterated and as typed on a Latin keyboard layout ("gfhjkm");
// - score 0 (guessed in seconds) is refused; scores 1 and 2 need the member to tick "use it
//   anyway"; 3 and 4 pass. Also refused: shorter than MIN_LENGTH, the email itself.
//
// The estimator (about 1.5 MB) is imported when the fields are built, not with the app. Until it
// has loaded (or if it failed to), the small heuristic `roughStrength` stands in, so a slow
// network never lets a password through unjudged.
import { h, uid } from './dom.js';
import { T, F, bindText } from './i18n.js';
import { field } from './ui.js';

export const MIN_LENGTH = 10;
/** Below this score the member must confirm; at REFUSE_AT and below the password is refused. */
export const CONFIRM_BELOW = 3;
export const REFUSE_AT = 0;

// Common Russian passwords and words (there is no zxcvbn-ts Russian dictionary package).
const RU_WORDS = [
  'пароль', 'привет', 'любовь', 'солнышко', 'котёнок', 'котенок', 'зайка', 'наташа', 'москва',
  'россия', 'йцукен', 'фывапролд', 'ячсмить', 'марина', 'светлана', 'татьяна', 'людмила', 'ирина',
  'елена', 'ольга', 'александр', 'сергей', 'андрей', 'дмитрий', 'владимир', 'максим', 'спартак',
  'зенит', 'кошка', 'собака', 'мамочка', 'господь', 'свобода', 'кооператив', 'пайщик', 'карта',
];
const RU_TRANSLIT = [
  'parol', 'privet', 'lubov', 'lyubov', 'solnyshko', 'solnce', 'kotenok', 'zaika', 'zayka',
  'natasha', 'moskva', 'rossiya', 'marina', 'svetlana', 'tatyana', 'lyudmila', 'irina', 'elena',
  'olga', 'aleksandr', 'sergey', 'sergei', 'andrey', 'dmitriy', 'vladimir', 'maksim', 'spartak',
  'zenit', 'koshka', 'sobaka', 'mamochka', 'svoboda', 'kooperativ', 'payshchik', 'karta',
];
// ЙЦУКЕН → QWERTY: a Russian word typed with the Latin layout on ("пароль" → "gfhjkm").
const RU_KEYS = 'йцукенгшщзхъфывапролджэячсмитьбюё';
const EN_KEYS = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`";
const onLatinLayout = (/** @type {string} */ word) =>
  [...word].map((c) => EN_KEYS[RU_KEYS.indexOf(c)] ?? c).join('');
const SITE_WORDS = ['cardcoop', 'card.coop', 'card coop', 'voskhod', 'восход'];

/**
 * @typedef {{score: number, tips: string[]}} Strength  score 0–4; tips are i18n keys
 */

/** @type {null | ((password: string, inputs: string[]) => {score: number, sequence: any[]})} */
let estimator = null;
/** @type {Promise<void> | null} */
let loading = null;

/** Load zxcvbn once (the fields call it; tests may await it). */
export function loadEstimator() {
  loading ??= import('../widget/dist/zxcvbn.js').then((z) => {
    const ru = [...RU_WORDS, ...RU_TRANSLIT, ...RU_WORDS.map(onLatinLayout)];
    const factory = new z.ZxcvbnFactory({
      dictionary: { ...z.commonDictionary, ...z.enDictionary, 'ru-common': ru },
      graphs: z.adjacencyGraphs,
    });
    estimator = (password, inputs) => factory.check(password, inputs);
  }).catch(() => {
    loading = null; // the rough estimate stays in charge; try again next time
  });
  return loading;
}

/** @param {string} email */
function userInputs(email) {
  const local = email.split('@')[0]?.toLowerCase() ?? '';
  return [email.toLowerCase(), local, ...local.split(/[._+-]/).filter((p) => p.length >= 3), ...SITE_WORDS];
}

/** The tips for zxcvbn's weakest parts (its matched patterns), in our own words and languages. */
function tipsOf(/** @type {any[]} */ sequence) {
  const tips = new Set();
  for (const m of sequence) {
    if (m.pattern === 'dictionary' && m.dictionaryName === 'userInputs') tips.add('pw.tip_email');
    else if (m.pattern === 'dictionary' && /names|wikipedia|tv|zodiac|seasons|diceware/.test(m.dictionaryName ?? '')) tips.add('pw.tip_name');
    else if (m.pattern === 'dictionary') tips.add('pw.tip_common');
    else if (m.pattern === 'spatial') tips.add('pw.tip_keyboard');
    else if (m.pattern === 'repeat') tips.add('pw.tip_repeat');
    else if (m.pattern === 'sequence') tips.add('pw.tip_sequence');
    else if (m.pattern === 'date' || (m.pattern === 'regex' && m.regexName === 'recentYear')) tips.add('pw.tip_date');
  }
  return [...tips];
}

/**
 * The strength of `password` for the account `email`: zxcvbn's score once it has loaded, the
 * rough estimate before. Shorter than MIN_LENGTH is at most 1 whatever the estimate says.
 * @param {string} password
 * @param {string} [email]
 * @returns {Strength}
 */
export function strength(password, email = '') {
  if (!password) return { score: 0, tips: ['pw.tip_length'] };
  /** @type {Strength} */
  let out;
  if (estimator) {
    const result = estimator(password.slice(0, 256), userInputs(email));
    out = { score: result.score, tips: result.score >= 4 ? [] : tipsOf(result.sequence) };
  } else {
    out = roughStrength(password, email);
  }
  if (password.length < MIN_LENGTH) return { score: Math.min(out.score, 1), tips: ['pw.tip_length', ...out.tips] };
  if (out.score < CONFIRM_BELOW && out.tips.length === 0) out.tips.push('pw.tip_longer');
  return out;
}

const ROUGH_COMMON = [
  'password', 'passw0rd', 'qwerty', 'asdfgh', 'zxcvbn', 'letmein', 'welcome', 'admin', 'iloveyou',
  'monkey', 'dragon', '123456', '111111', '000000', 'abc123', ...RU_WORDS, ...RU_TRANSLIT, ...SITE_WORDS,
];

/**
 * A rough estimate (0–4) while zxcvbn loads: length and variety raise it; common words, repeats,
 * sequences and the email address lower it. Deliberately stricter than zxcvbn on the borders.
 * @param {string} password
 * @param {string} email
 * @returns {Strength}
 */
export function roughStrength(password, email) {
  const tips = [];
  const lower = password.toLowerCase();
  const classes = [/[a-zа-яё]/, /[A-ZА-ЯЁ]/, /[0-9]/, /[^a-zA-Zа-яА-ЯёЁ0-9]/].filter((re) => re.test(password)).length;
  let bits = (password.length * Math.log2([10, 26, 36, 62, 95][classes] ?? 95)) / 2;
  if (ROUGH_COMMON.some((word) => lower.includes(word))) {
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
  const score = bits < 15 ? 0 : bits < 28 ? 1 : bits < 40 ? 2 : bits < 55 ? 3 : 4;
  return { score, tips };
}

const LEVELS = ['pw.level0', 'pw.level1', 'pw.level2', 'pw.level3', 'pw.level4'];

/**
 * The new password and its confirmation, with a live strength meter and, for a weak password,
 * the "use it anyway" checkbox.
 * @param {{label: {i18n: () => string}, email: () => string, idPrefix: string}} opts
 */
export function newPasswordFields({ label, email, idPrefix }) {
  const pw = field({ id: `${idPrefix}-password`, label, type: 'password', autocomplete: 'new-password', required: true,
    hint: T('pw.hint', { min: MIN_LENGTH }) });
  const confirm = field({ id: `${idPrefix}-confirm`, label: T('pw.confirm'), type: 'password', autocomplete: 'new-password', required: true });
  const meter = h('meter', { min: '0', max: '4', low: '2', high: '3', optimum: '4', value: '0', 'aria-hidden': 'true', class: 'pw-meter' });
  const bar = h('div', { class: 'pw-bar', 'aria-hidden': 'true' }, [0, 1, 2, 3].map(() => h('span', { class: 'pw-seg' })));
  const levelText = h('span', { class: 'pw-level', 'aria-live': 'polite' });
  const tipsList = h('ul', { class: 'pw-tips' });
  const anywayId = uid(`${idPrefix}-weak`);
  const anyway = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', id: anywayId, class: 'pw-anyway-input' }));
  const anywayBox = h('div', { class: 'check pw-anyway', hidden: true }, anyway, h('label', { for: anywayId, text: T('pw.weak_confirm') }));
  const hint = h('div', { class: 'pw-strength', id: `${idPrefix}-strength`, dataset: { score: '0' } },
    meter, bar, levelText, tipsList);
  pw.input.setAttribute('aria-describedby', `${pw.input.getAttribute('aria-describedby') ?? ''} ${hint.id}`.trim());
  pw.wrap.insertBefore(hint, pw.error);
  pw.wrap.insertBefore(anywayBox, pw.error);

  /** @type {Strength} */
  let current = { score: 0, tips: [] };
  const update = () => {
    const value = pw.input.value;
    current = strength(value, email());
    const { score, tips } = current;
    meter.setAttribute('value', String(score));
    hint.dataset.score = String(score);
    bindText(levelText, F(() => `${T('pw.strength').i18n()}: ${T(LEVELS[score]).i18n()}`));
    tipsList.replaceChildren(...tips.map((key) => h('li', { text: T(key, { min: MIN_LENGTH }) })));
    hint.hidden = value === '';
    // The box is for a password long enough and not refused, but weak.
    anywayBox.hidden = !(value.length >= MIN_LENGTH && score > REFUSE_AT && score < CONFIRM_BELOW);
    if (anywayBox.hidden) anyway.checked = false;
  };
  hint.hidden = true;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  pw.input.addEventListener('input', () => {
    anyway.checked = false; // a confirmation is for the password it was given for
    clearTimeout(timer);
    timer = setTimeout(update, 80); // zxcvbn takes up to ~100 ms on long inputs
  });
  void loadEstimator().then(() => {
    if (pw.input.value) update();
  });

  return {
    elements: [pw.wrap, confirm.wrap],
    input: pw.input,
    confirmInput: confirm.input,
    value: () => pw.input.value,
    /** The current estimate (score 0–4 and tips). */
    strength: () => strength(pw.input.value, email()),
    /** Check the pair; show the problems; true when fine. */
    check() {
      clearTimeout(timer);
      update();
      let ok = true;
      const value = pw.input.value;
      if (value.length < MIN_LENGTH) {
        pw.setError(T('pw.too_short', { min: MIN_LENGTH }));
        ok = false;
      } else if (value.trim().toLowerCase() === email().trim().toLowerCase()) {
        pw.setError(T('pw.is_email'));
        ok = false;
      } else if (current.score <= REFUSE_AT) {
        pw.setError(T('pw.too_weak'));
        ok = false;
      } else if (current.score < CONFIRM_BELOW && !anyway.checked) {
        pw.setError(T('pw.weak_confirm_needed'));
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
      if (!ok) {
        const weakOnly = pw.input.getAttribute('aria-invalid') && !anywayBox.hidden && !anyway.checked;
        (weakOnly ? anyway : pw.input.getAttribute('aria-invalid') ? pw.input : confirm.input).focus();
      }
      return ok;
    },
    clear() {
      pw.input.value = '';
      confirm.input.value = '';
      anyway.checked = false;
      update();
    },
  };
}

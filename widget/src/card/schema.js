// The member card schema card.coop/schema/v1 (PROTOCOL.md §3-4) in the browser: a small JSON
// Schema (2020-12) validator for exactly the keywords idp/card/schema_v1.json uses, its formats,
// and the rule the keywords cannot say (a date of birth is not in the future, not before 1900).
// cardcoop/schema.py is the Python twin; widget/test/fixtures/cards.json pins both to the same
// answers, messages included. The page gets the schema from GET /card/schema; the only library is
// libphonenumber (./phone.js) for the phone format, as phonenumbers is in Python.
//
// Problems speak the member's language: `oneOf` is resolved by person_type (the branch's own
// problems, not "matches none of oneOf"), each problem is {path, message_ru, message_en} with a
// JSON Pointer (RFC 6901) to the field and messages that start with the field's label (title /
// x-title-en), at most one per field. Messages never contain the value (it is personal data).
// Regexes use [0-9] and explicit classes with the u flag, never \d or \s, so that they accept
// exactly what Python's do.

import { normalizePhone } from './phone.js';

export const SCHEMA_ID = 'card.coop/schema/v1';
export const BIRTHDATE_MIN = '1900-01-01';
// The latest UTC offset in use (Kiribati, UTC+14): "today" there is the last date already begun,
// so nobody born today in their own time zone is refused.
const LATEST_UTC_OFFSET_MS = 14 * 3600 * 1000;

/** @typedef {{path: string, message_ru: string, message_en: string}} CardProblem */
/** @typedef {[string, string]} Text  [ru, en] */

// --- formats --------------------------------------------------------------------------------

/** @type {Text} */
const CHECK_DIGIT = ['неверная контрольная цифра', 'wrong check digit'];
const DATE_RE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/u;
const EMAIL_RE =
  /^[^\x00-\x20\x7f@"(),:;<>\[\\\]]{1,64}@(?:[^\x00-\x20\x7f@"(),:;<>\[\\\]._]+\.)+[^\x00-\x20\x7f@"(),:;<>\[\\\]._]{2,}$/u;
const KPP_RE = /^[0-9]{4}[0-9A-Z]{2}[0-9]{3}$/u;
const DIGITS_RE = /^[0-9]+$/u;
// ФНС: the INN check digits are weighted sums mod 11 mod 10.
const INN10_WEIGHTS = [2, 4, 10, 3, 5, 9, 4, 6, 8];
const INN11_WEIGHTS = [7, 2, 4, 10, 3, 5, 9, 4, 6, 8];
const INN12_WEIGHTS = [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8];

/** @param {string} s */
const codePoints = (s) => [...s].length;

/**
 * @param {string} digits
 * @param {number[]} weights
 */
function weightedCheck(digits, weights) {
  let sum = 0;
  for (let i = 0; i < weights.length; i++) sum += Number(digits[i]) * weights[i];
  return (sum % 11) % 10;
}

/**
 * @param {number} year
 * @param {number} month
 */
function daysInMonth(year, month) {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** @param {string} value @returns {Text | null} */
function dateProblem(value) {
  const m = DATE_RE.exec(value);
  if (m) {
    const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month)) return null;
  }
  return ['неверная дата, нужен формат ГГГГ-ММ-ДД', 'invalid date, expected YYYY-MM-DD'];
}

/** @param {string} value @returns {Text | null} */
function emailProblem(value) {
  if (codePoints(value) <= 254 && EMAIL_RE.test(value)) return null;
  return ['неверный адрес', 'invalid address'];
}

/**
 * A valid number by libphonenumber's metadata, Russian unless it starts with + and another code
 * (./phone.js; the page stores it in E.164).
 * @param {string} value @returns {Text | null}
 */
function phoneProblem(value) {
  return normalizePhone(value) === null ? ['неверный номер', 'invalid number'] : null;
}

/** @param {string} value @returns {Text | null} */
function innProblem(value) {
  if (!DIGITS_RE.test(value) || (value.length !== 10 && value.length !== 12)) {
    return ['ожидается 10 или 12 цифр', 'expected 10 or 12 digits'];
  }
  const ok =
    value.length === 10
      ? weightedCheck(value, INN10_WEIGHTS) === Number(value[9])
      : weightedCheck(value, INN11_WEIGHTS) === Number(value[10]) &&
        weightedCheck(value, INN12_WEIGHTS) === Number(value[11]);
  return ok ? null : CHECK_DIGIT;
}

/**
 * The last digit = (the number made of the others) mod `modulus` mod 10.
 * @param {string} value @param {number} length @param {number} modulus @returns {Text | null}
 */
function ogrnLikeProblem(value, length, modulus) {
  if (!DIGITS_RE.test(value) || value.length !== length) {
    return [`ожидается ${length} цифр`, `expected ${length} digits`];
  }
  let rest = 0;
  for (const digit of value.slice(0, -1)) rest = (rest * 10 + Number(digit)) % modulus;
  return rest % 10 === Number(value[length - 1]) ? null : CHECK_DIGIT;
}

/** @type {Record<string, (value: string) => Text | null>} */
const FORMATS = {
  date: dateProblem,
  email: emailProblem,
  'ru-phone': phoneProblem,
  'ru-inn': innProblem,
  // ОГРН: 13 digits, mod 11; ОГРНИП: 15 digits, mod 13.
  'ru-ogrn': (value) => ogrnLikeProblem(value, 13, 11),
  'ru-ogrnip': (value) => ogrnLikeProblem(value, 15, 13),
  // КПП: 4 digits (tax office), 2 digits or capital Latin letters (reason), 3 digits.
  'ru-kpp': (value) =>
    KPP_RE.test(value)
      ? null
      : [
          'ожидается 9 знаков: 4 цифры, 2 цифры или заглавные латинские буквы, 3 цифры',
          'expected 9 characters: 4 digits, 2 digits or capital Latin letters, 3 digits',
        ],
};

/** The formats this validator asserts. */
export const FORMAT_NAMES = Object.freeze(Object.keys(FORMATS));

/**
 * @param {string} name
 * @param {unknown} value
 */
const isValid = (name, value) => typeof value === 'string' && FORMATS[name](value) === null;

/** A real calendar date written YYYY-MM-DD. @param {unknown} value */
export const isValidDate = (value) => isValid('date', value);
/** @param {unknown} value */
export const isValidEmail = (value) => isValid('email', value);
/** @param {unknown} value */
export const isValidRuPhone = (value) => isValid('ru-phone', value);
/** ИНН of an organization (10 digits) or a person (12 digits) with the FNS check digits. @param {unknown} value */
export const isValidInn = (value) => isValid('ru-inn', value);
/** @param {unknown} value */
export const isValidOgrn = (value) => isValid('ru-ogrn', value);
/** @param {unknown} value */
export const isValidOgrnip = (value) => isValid('ru-ogrnip', value);
/** @param {unknown} value */
export const isValidKpp = (value) => isValid('ru-kpp', value);

// --- the validator --------------------------------------------------------------------------

const ASSERTIONS = new Set([
  'type', 'properties', 'required', 'additionalProperties', 'const', 'enum', 'pattern',
  'minLength', 'maxLength', 'format', 'oneOf', '$ref',
]);
const ANNOTATIONS = new Set(['$schema', '$id', '$defs', '$comment', 'title', 'description', 'default', 'examples']);

// When one field has several problems (an 11-digit INN breaks maxLength, pattern and format), the
// member sees one: the most basic. cardcoop/schema.py uses the same order.
/** @type {Record<string, number>} */
const PRIORITY = {
  type: 0, required: 1, additionalProperties: 2, const: 3, enum: 3, oneOf: 4,
  minLength: 5, maxLength: 5, pattern: 6, format: 7, birthdate: 8,
};
/** @type {Record<string, Text>} */
const TYPE_NAMES = {
  string: ['должно быть строкой', 'must be a string'],
  object: ['должно быть объектом', 'must be an object'],
};
/** @type {Text} */ const REQUIRED = ['обязательное поле', 'required field'];
/** @type {Text} */ const UNKNOWN_FIELD = ['Неизвестное поле', 'Unknown field'];
/** @type {Text} */ const NOT_ALLOWED = ['выберите одно из допустимых значений', 'must be one of the allowed values'];
/** @type {Text} */ const INVALID = ['недопустимое значение', 'invalid value'];
/** @type {Text} */ const BAD_FORMAT = ['неверный формат', 'invalid format'];

/** @param {unknown} v @returns {v is Record<string, any>} */
const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
/** @param {object} o @param {string} k */
const has = (o, k) => Object.prototype.hasOwnProperty.call(o, k);

/** @param {(string|number)[]} segments */
const pointer = (segments) =>
  segments.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');

/** @param {unknown} a @param {unknown} b @returns {boolean} */
function jsonEqual(a, b) {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => has(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

/** @param {string} type @param {unknown} v */
function typeMatches(type, v) {
  switch (type) {
    case 'object': return isObject(v);
    case 'array': return Array.isArray(v);
    case 'string': return typeof v === 'string';
    case 'number': return typeof v === 'number' && Number.isFinite(v);
    case 'integer': return Number.isInteger(v);
    case 'boolean': return typeof v === 'boolean';
    case 'null': return v === null;
    default: throw new Error(`unknown JSON Schema type: ${type}`);
  }
}

/** @param {string} keyword @param {number} limit @returns {Text} */
function lengthText(keyword, limit) {
  if (keyword === 'minLength' && limit === 1) return ['заполните поле', 'must not be empty'];
  if (keyword === 'minLength') return [`слишком короткое значение (не менее ${limit} символов)`, `too short (at least ${limit} characters)`];
  return [`слишком длинное значение (не более ${limit} символов)`, `too long (at most ${limit} characters)`];
}

/** @param {Record<string, any>} node @returns {Text | null} */
function expected(node) {
  if (!has(node, 'x-expected')) return null;
  const ru = String(node['x-expected']);
  return [`ожидается ${ru}`, `expected ${has(node, 'x-expected-en') ? node['x-expected-en'] : ru}`];
}

/** @typedef {{priority: number, problem: CardProblem}} Found */

class Validator {
  /** @param {Record<string, any>} root */
  constructor(root) {
    this.root = root;
    /** @type {Map<string, RegExp>} */
    this.patterns = new Map();
  }

  /** @param {string} ref @returns {Record<string, any>} */
  deref(ref) {
    if (!ref.startsWith('#')) throw new Error('only local $ref is supported');
    /** @type {any} */
    let target = this.root;
    for (const part of ref.slice(1).split('/').slice(1)) {
      const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
      if (!isObject(target) || !has(target, key)) throw new Error(`unresolvable $ref ${ref}`);
      target = target[key];
    }
    return target;
  }

  /** Follows $ref to the schema that holds the keywords. @param {Record<string, any>} node */
  resolve(node) {
    for (let i = 0; typeof node.$ref === 'string'; i++) {
      if (i > 32) throw new Error('$ref loop');
      node = this.deref(node.$ref);
    }
    return node;
  }

  /** The property every branch pins with `const` (person_type). @param {Record<string, any>[]} branches */
  discriminator(branches) {
    const resolved = branches.map((b) => this.resolve(b));
    if (resolved.length === 0) return null;
    for (const [key, prop] of Object.entries(resolved[0].properties ?? {})) {
      if (has(prop, 'const') && resolved.every((b) => isObject(b.properties?.[key]) && has(b.properties[key], 'const'))) {
        return key;
      }
    }
    return null;
  }

  /** @param {Record<string, any>[]} branches @param {unknown} instance @returns {number | null} */
  branchIndex(branches, instance) {
    const key = this.discriminator(branches);
    if (key === null || !isObject(instance) || !has(instance, key)) return null;
    const index = branches.findIndex((b) => jsonEqual(this.resolve(b).properties[key].const, instance[key]));
    return index < 0 ? null : index;
  }

  /** @param {Record<string, any>} node @param {unknown} instance @param {string|number} key */
  child(node, instance, key) {
    node = this.resolve(node);
    const candidates = [node];
    if (Array.isArray(node.oneOf)) {
      const index = this.branchIndex(node.oneOf, instance);
      if (index !== null) candidates.unshift(this.resolve(node.oneOf[index]));
    }
    for (const candidate of candidates) {
      const props = candidate.properties;
      if (typeof key === 'string' && isObject(props) && has(props, key)) return props[key];
    }
    return null;
  }

  /** The field's label [ru, en], or null. @param {unknown} data @param {(string|number)[]} segments @returns {Text | null} */
  title(data, segments) {
    /** @type {Record<string, any> | null} */
    let node = this.root;
    let instance = data;
    for (const segment of segments) {
      node = this.child(/** @type {Record<string, any>} */ (node), instance, segment);
      if (node === null) return null;
      instance = isObject(instance) && typeof segment === 'string' && has(instance, segment) ? instance[segment] : undefined;
    }
    for (const candidate of [node, this.resolve(/** @type {Record<string, any>} */ (node))]) {
      if (isObject(candidate) && has(candidate, 'title')) {
        const ru = String(candidate.title);
        return [ru, has(candidate, 'x-title-en') ? String(candidate['x-title-en']) : ru];
      }
    }
    return null;
  }

  /** @param {string} pattern */
  regex(pattern) {
    let re = this.patterns.get(pattern);
    if (!re) {
      re = new RegExp(pattern, 'u');
      this.patterns.set(pattern, re);
    }
    return re;
  }

  /**
   * @param {string} keyword @param {(string|number)[]} segments @param {Text | null} label @param {Text} text
   * @returns {Found}
   */
  found(keyword, segments, label, text) {
    const [ru, en] = label ? [`${label[0]}: ${text[0]}`, `${label[1]}: ${text[1]}`] : text;
    return { priority: PRIORITY[keyword] ?? 9, problem: { path: pointer(segments), message_ru: ru, message_en: en } };
  }

  /**
   * Pushes the problems of `instance` against `node` onto `out`.
   * @param {unknown} data the whole card (for labels)
   * @param {Record<string, any> | boolean} node
   * @param {unknown} instance
   * @param {(string|number)[]} segments
   * @param {Found[]} out
   */
  check(data, node, instance, segments, out) {
    if (node === true) return;
    if (node === false) {
      out.push(this.found('type', segments, this.title(data, segments), INVALID));
      return;
    }
    for (const keyword of Object.keys(node)) {
      if (!ASSERTIONS.has(keyword) && !ANNOTATIONS.has(keyword) && !keyword.startsWith('x-')) {
        throw new Error(`unsupported JSON Schema keyword: ${keyword}`);
      }
    }
    const label = () => this.title(data, segments);
    if (typeof node.$ref === 'string') this.check(data, this.deref(node.$ref), instance, segments, out);
    if (has(node, 'type')) {
      const types = Array.isArray(node.type) ? node.type : [node.type];
      if (!types.some((t) => typeMatches(t, instance))) {
        out.push(this.found('type', segments, label(), (types.length === 1 && TYPE_NAMES[types[0]]) || INVALID));
      }
    }
    if (has(node, 'const') && !jsonEqual(node.const, instance)) out.push(this.found('const', segments, label(), NOT_ALLOWED));
    if (Array.isArray(node.enum) && !node.enum.some((/** @type {unknown} */ v) => jsonEqual(v, instance))) {
      out.push(this.found('enum', segments, label(), NOT_ALLOWED));
    }
    if (typeof instance === 'string') this.checkString(node, instance, segments, label, out);
    if (isObject(instance)) this.checkObject(data, node, instance, segments, out);
    if (Array.isArray(node.oneOf)) this.checkOneOf(data, node.oneOf, instance, segments, out);
  }

  /**
   * @param {Record<string, any>} node @param {string} value @param {(string|number)[]} segments
   * @param {() => Text | null} label @param {Found[]} out
   */
  checkString(node, value, segments, label, out) {
    const length = codePoints(value);
    /** @type {[string, boolean][]} */
    const shape = [
      ['minLength', typeof node.minLength === 'number' && length < node.minLength],
      ['maxLength', typeof node.maxLength === 'number' && length > node.maxLength],
      ['pattern', typeof node.pattern === 'string' && !this.regex(node.pattern).test(value)],
    ];
    for (const [keyword, failed] of shape) {
      if (!failed) continue;
      const text = expected(node) ?? (keyword === 'pattern' ? BAD_FORMAT : lengthText(keyword, node[keyword]));
      out.push(this.found(keyword, segments, label(), text));
    }
    if (typeof node.format === 'string' && has(FORMATS, node.format)) {
      const problem = FORMATS[node.format](value);
      if (problem) out.push(this.found('format', segments, label(), problem));
    }
  }

  /**
   * @param {unknown} data @param {Record<string, any>} node @param {Record<string, any>} instance
   * @param {(string|number)[]} segments @param {Found[]} out
   */
  checkObject(data, node, instance, segments, out) {
    const props = isObject(node.properties) ? node.properties : {};
    if (Array.isArray(node.required)) {
      for (const name of node.required) {
        if (!has(instance, name)) out.push(this.found('required', [...segments, name], this.title(data, [...segments, name]), REQUIRED));
      }
    }
    for (const [name, value] of Object.entries(instance)) {
      if (has(props, name)) this.check(data, props[name], value, [...segments, name], out);
      else if (node.additionalProperties === false) out.push(this.found('additionalProperties', [...segments, name], null, UNKNOWN_FIELD));
      else if (isObject(node.additionalProperties)) this.check(data, node.additionalProperties, value, [...segments, name], out);
    }
  }

  /**
   * Exactly one branch must match. When it does not, the member hears about the branch their
   * discriminator (person_type) names, or about the discriminator itself.
   * @param {unknown} data @param {Record<string, any>[]} branches @param {unknown} instance
   * @param {(string|number)[]} segments @param {Found[]} out
   */
  checkOneOf(data, branches, instance, segments, out) {
    const results = branches.map((branch) => {
      /** @type {Found[]} */
      const found = [];
      this.check(data, branch, instance, segments, found);
      return found;
    });
    if (results.filter((r) => r.length === 0).length === 1) return;
    const index = this.branchIndex(branches, instance);
    if (index !== null) {
      out.push(...results[index]);
      return;
    }
    const key = this.discriminator(branches);
    const where = key !== null && isObject(instance) ? [...segments, key] : segments;
    out.push(this.found('oneOf', where, this.title(data, where), NOT_ALLOWED));
  }
}

/** @param {{today?: string}} options */
function todayOf(options) {
  if (options.today !== undefined) {
    if (!isValidDate(options.today)) throw new TypeError('today must be a YYYY-MM-DD date');
    return options.today;
  }
  return new Date(Date.now() + LATEST_UTC_OFFSET_MS).toISOString().slice(0, 10);
}

/**
 * Problems of a card's plaintext against the card schema; [] means valid. At most one problem per
 * field (the most basic one), sorted by path.
 * @param {Record<string, any>} schema the card schema (GET /card/schema)
 * @param {unknown} data the card plaintext
 * @param {{today?: string}} [options] `today` (YYYY-MM-DD) for the date of birth; defaults to the
 *   latest date anywhere on Earth
 * @returns {CardProblem[]}
 */
export function validateCard(schema, data, options = {}) {
  if (!isObject(schema)) throw new TypeError('schema must be an object');
  const validator = new Validator(schema);
  /** @type {Found[]} */
  const found = [];
  validator.check(data, schema, data, [], found);
  // A date of birth is not in the future and not before 1900 (ISO dates compare as text).
  if (isObject(data) && (data.person_type === 'individual' || data.person_type === 'entrepreneur')) {
    const value = data.birthdate;
    if (typeof value === 'string' && dateProblem(value) === null) {
      const label = validator.title(data, ['birthdate']);
      if (value > todayOf(options)) {
        found.push(validator.found('birthdate', ['birthdate'], label, ['не может быть в будущем', 'must not be in the future']));
      } else if (value < BIRTHDATE_MIN) {
        found.push(validator.found('birthdate', ['birthdate'], label, ['не может быть раньше 1900 года', 'must not be before 1900']));
      }
    }
  }
  /** @type {Map<string, Found>} */
  const best = new Map();
  for (const item of found) {
    const current = best.get(item.problem.path);
    if (
      !current ||
      item.priority < current.priority ||
      (item.priority === current.priority && item.problem.message_en < current.problem.message_en)
    ) {
      best.set(item.problem.path, item);
    }
  }
  return [...best.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((path) => /** @type {Found} */ (best.get(path)).problem);
}

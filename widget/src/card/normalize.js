// The stored form of a card, as the member's page saves it: the phone in E.164, the passport's
// series, number and division code as the schema wants them ("45 06" → "4506", "770 001" →
// "770-001"). Values that cannot be read stay as typed, for validateCard to report. The Python
// twin is cardcoop.schema.normalize_card; tests/data/phones.json pins both.
import { normalizePhone } from './phone.js';

export { normalizePhone };

const SPACES_RE = /^[ \t\u00a0]+|[ \t\u00a0]+$/gu;
const SEPARATORS_RE = /[ \t\u00a0\-\u2013\u2014]/gu;
const DIGITS_RE = /^[0-9]+$/u;
/** @type {Record<string, number>} */
const PASSPORT_DIGITS = { series: 4, number: 6, code: 6 };

/**
 * @param {string} name series | number | code
 * @param {string} value
 */
export function normalizePassportPart(name, value) {
  const digits = value.replace(SEPARATORS_RE, '');
  if (!DIGITS_RE.test(digits) || digits.length !== PASSPORT_DIGITS[name]) return value.replace(SPACES_RE, '');
  return name === 'code' ? `${digits.slice(0, 3)}-${digits.slice(3)}` : digits;
}

/**
 * A copy of the card data in its stored form.
 * @param {any} data
 * @returns {any}
 */
export function normalizeCard(data) {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return data;
  const out = structuredClone(data);
  if (typeof out.phone === 'string') out.phone = normalizePhone(out.phone) ?? out.phone;
  if (out.passport && typeof out.passport === 'object' && !Array.isArray(out.passport)) {
    for (const name of Object.keys(PASSPORT_DIGITS)) {
      if (typeof out.passport[name] === 'string') out.passport[name] = normalizePassportPart(name, out.passport[name]);
    }
  }
  return out;
}

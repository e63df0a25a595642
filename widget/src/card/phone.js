// Phone numbers of the card: the E.164 form of a number as a person types it, by libphonenumber
// (libphonenumber-js with the full metadata, bundled in dist/phone.js by `npm run build`). The
// Python twin is cardcoop.schema.normalize_phone; tests/data/phones.json pins both.
import { parsePhoneNumberFromString } from '../../dist/phone.js';

export const PHONE_REGION = 'RU';
export const PHONE_MAX_LENGTH = 32;
// An optional leading +, then digits and the separators people use (spaces, no-break spaces,
// parentheses, hyphens, en and em dashes, dots). No letters, no extension: E.164 has no room
// for one and dropping it would lose data. The same class as cardcoop/schema.py's _PHONE_RE.
const PHONE_RE = /^\+?[0-9 \u00a0()\-\u2013\u2014.]*[0-9][0-9 \u00a0()\-\u2013\u2014.]*$/u;
const EDGE_SPACES_RE = /^[ \t\u00a0]+|[ \t\u00a0]+$/gu;

/**
 * "8 (912) 345-67-89" → "+79123456789"; null when the value is not a valid number. Russia is
 * the default region (a number of another country needs its + code).
 * @param {unknown} value
 * @returns {string | null}
 */
export function normalizePhone(value) {
  if (typeof value !== 'string' || [...value].length > PHONE_MAX_LENGTH) return null;
  const text = value.replace(EDGE_SPACES_RE, '');
  if (!PHONE_RE.test(text)) return null;
  const number = parsePhoneNumberFromString(text, PHONE_REGION);
  if (!number || !number.isValid() || number.ext) return null;
  return number.number;
}

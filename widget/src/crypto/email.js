// email_norm (PROTOCOL.md §1): one canonical form of an email address, the PBKDF2 salt of the
// member's keys. The Python SDK (cardcoop/protocol/email.py) and the server compute exactly the
// same string; the vectors' "email_norm" section pins both. Unicode twins of one address (NFD
// and NFC, fullwidth letters, a domain in punycode or in capitals) fold into one form; a local
// part that mixes scripts (a Cyrillic "а" among Latin letters) is refused, not folded. Plain
// ASCII addresses come out exactly as the v1.0 rule (strip + lowercase) made them.
import { punycodeDecode, punycodeEncode } from './noble.js';

/** What normalizeEmail throws for an address the rule refuses (the server's `invalid_email`). */
export class InvalidEmailError extends Error {
  /** @param {'malformed' | 'mixed_script' | 'domain'} reason */
  constructor(reason) {
    super(`invalid email (${reason})`);
    this.name = 'InvalidEmailError';
    this.code = 'invalid_email';
    this.reason = reason;
  }
}

// Python's str.strip() whitespace (str.isspace), which is what the server and the SDK apply.
// JS String#trim differs at the edges (it strips U+FEFF, keeps U+001C..U+001F and U+0085), so
// the set is spelled out to give both implementations the same email_norm.
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_STRIP_RE = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');

// The script of a letter, from an explicit table identical to the one in the Python SDK. No
// library: Python's unicodedata has no Script property, and \p{Script=...} here or the `regex`
// package there each follow their own Unicode version, so the two could disagree about a
// letter; a table both sides spell out cannot. Every code point inside these ranges counts for
// its script; any other letter (\p{L}) is "other"; everything else is script-neutral.
/** @type {ReadonlyArray<readonly [number, number, string]>} */
const SCRIPT_RANGES = [
  [0x0041, 0x005a, 'latin'], // A-Z (a lowered local part has none, kept for completeness)
  [0x0061, 0x007a, 'latin'], // a-z
  [0x00c0, 0x00d6, 'latin'], // Latin-1 Supplement letters (not × U+00D7, ÷ U+00F7)
  [0x00d8, 0x00f6, 'latin'],
  [0x00f8, 0x024f, 'latin'], // ...and Latin Extended-A, Latin Extended-B
  [0x1e00, 0x1eff, 'latin'], // Latin Extended Additional
  [0x0370, 0x03ff, 'greek'], // Greek and Coptic
  [0x1f00, 0x1fff, 'greek'], // Greek Extended
  [0x0400, 0x052f, 'cyrillic'], // Cyrillic, Cyrillic Supplement
  [0x1c80, 0x1c8f, 'cyrillic'], // Cyrillic Extended-C
  [0x2de0, 0x2dff, 'cyrillic'], // Cyrillic Extended-A
  [0xa640, 0xa69f, 'cyrillic'], // Cyrillic Extended-B
];
const LETTER_RE = /^\p{L}$/u;

/**
 * "latin", "greek", "cyrillic", "other" (any other letter) or null (script-neutral).
 * @param {string} char one code point
 * @returns {string | null}
 */
export function emailScript(char) {
  const point = /** @type {number} */ (char.codePointAt(0));
  for (const [low, high, script] of SCRIPT_RANGES) {
    if (low <= point && point <= high) return script;
  }
  return LETTER_RE.test(char) ? 'other' : null;
}

/** @param {string} local */
function localPart(local) {
  const folded = local.normalize('NFKC').toLowerCase().normalize('NFKC');
  // Python and this browser may ship different Unicode versions; a form that lowering would
  // still change is refused instead of trusted to come out the same on both sides.
  if (!folded || folded.toLowerCase() !== folded) throw new InvalidEmailError('malformed');
  const scripts = new Set();
  for (const char of folded) {
    const script = emailScript(char);
    if (script !== null) scripts.add(script);
  }
  if (scripts.size > 1) throw new InvalidEmailError('mixed_script');
  return folded;
}

// The URL parser is the browser's UTS #46 (non-transitional) mapping to A-labels. Around it:
// ASCII other than letters, digits, "-" and "." is refused first (the URL parser would
// percent-decode, drop tabs, or read a port, a path or an IPv6 literal), and a last label is
// appended so that a domain ending in a number is never parsed as an IPv4 address. After it,
// the checks the Python `idna` package (IDNA 2008) makes and the URL parser does not.
const ASCII_NOT_LDH_RE = /[\x00-\x2c\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]/;
const SENTINEL = '.a';
// UTS #46 revision 31 (Unicode 15.1) maps capital sharp s U+1E9E to ß; URL parsers built on
// older tables (Node 20's among them) still give "ss", a different domain. Python's idna
// (>= 3.7) has the new table; spelling the one changed mapping out keeps both sides equal.
const CAPITAL_SHARP_S_RE = /\u1e9e/g;
const LDH_RE = /^[a-z0-9-]+$/;
// IDNA 2008 allows letters, marks and digits, and a few CONTEXTJ/CONTEXTO code points (RFC 5892
// Appendix A): ZWNJ and ZWJ (whose rules the URL parser checks), and the ones checkContexto
// checks.
const U_LABEL_RE = /^[\p{L}\p{M}\p{Nd}\u200c\u200d\u00b7\u0375\u05f3\u05f4\u30fb-]+$/u;
// RFC 5892 §2.6: letters IDNA 2008 disallows by exception (tatweel, NKo lajanyalan, Hangul tone
// marks, vertical kana repeat marks, the masu mark).
const DISALLOWED_RE = /[\u0640\u07fa\u302e\u302f\u3031-\u3035\u303b]/u;
// Of the Bidi rule (RFC 5893 §2) only its common case is checked here (a right-to-left label
// starts with an Arabic or Hebrew letter and has no other letters); the server checks it whole,
// and a domain refused there comes back as invalid_email. Right-to-left means Arabic and Hebrew
// letters (bidi R, AL) and Arabic-Indic digits (AN), not the extended Arabic-Indic digits
// U+06F0-U+06F9 (EN).
const RTL_RE = /(?=\p{L})[\p{Script=Arabic}\p{Script=Hebrew}]|[\u0660-\u0669]/u;
const RTL_LETTER_RE = /^(?=\p{L})[\p{Script=Arabic}\p{Script=Hebrew}]$/u;
const NOT_RTL_LETTER_RE = /(?![\p{Script=Arabic}\p{Script=Hebrew}])\p{L}/u;
const GREEK_RE = /^\p{Script=Greek}$/u;
const HEBREW_RE = /^\p{Script=Hebrew}$/u;
const KANA_HAN_RE = /[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u;

/**
 * RFC 5892 Appendix A.3-A.9, the CONTEXTO rules.
 * @param {string} label a U-label
 */
function checkContexto(label) {
  const chars = [...label];
  const ok = chars.every((char, i) => {
    if (char === '\u00b7') return chars[i - 1] === 'l' && chars[i + 1] === 'l';
    if (char === '\u0375') return GREEK_RE.test(chars[i + 1] ?? '');
    if (char === '\u05f3' || char === '\u05f4') return HEBREW_RE.test(chars[i - 1] ?? '');
    if (char === '\u30fb') return KANA_HAN_RE.test(label.replace(/\u30fb/g, ''));
    return true;
  });
  if (!ok || (/[\u0660-\u0669]/.test(label) && /[\u06f0-\u06f9]/.test(label))) {
    throw new InvalidEmailError('domain');
  }
}

/**
 * The common case of RFC 5893 §2 rules 1 and 2 for a right-to-left label.
 * @param {string} label a U-label
 */
function checkBidi(label) {
  if (!RTL_RE.test(label)) return;
  if (!RTL_LETTER_RE.test([...label][0] ?? '') || NOT_RTL_LETTER_RE.test(label)) {
    throw new InvalidEmailError('domain');
  }
}

/** @param {string} label */
function checkHyphens(label) {
  // RFC 5891 §4.2.3.1: no hyphen first or last, none in both the 3rd and 4th positions.
  if (label.startsWith('-') || label.endsWith('-') || label.slice(2, 4) === '--') {
    throw new InvalidEmailError('domain');
  }
}

/** @param {string} label an A-label or an LDH label, lowercase */
function uLabel(label) {
  if (!label || label.length > 63 || !LDH_RE.test(label)) throw new InvalidEmailError('domain');
  if (!label.startsWith('xn--')) {
    checkHyphens(label);
    return label;
  }
  let unicode;
  try {
    unicode = punycodeDecode(label.slice(4));
  } catch {
    throw new InvalidEmailError('domain');
  }
  // An A-label must decode to something that needed it, and be the one encoding of it.
  if (!/[^\x00-\x7f]/.test(unicode) || punycodeEncode(unicode) !== label.slice(4)) {
    throw new InvalidEmailError('domain');
  }
  checkHyphens(unicode);
  if (!U_LABEL_RE.test(unicode) || DISALLOWED_RE.test(unicode)) throw new InvalidEmailError('domain');
  checkContexto(unicode);
  checkBidi(unicode);
  return unicode;
}

/** @param {string} domain */
function domainPart(domain) {
  if (ASCII_NOT_LDH_RE.test(domain)) throw new InvalidEmailError('domain');
  let host;
  try {
    host = new URL(`http://${domain.replace(CAPITAL_SHARP_S_RE, '\u00df')}${SENTINEL}/`).hostname;
  } catch {
    throw new InvalidEmailError('domain');
  }
  if (!host.endsWith(SENTINEL)) throw new InvalidEmailError('domain');
  host = host.slice(0, -SENTINEL.length);
  if (host.length > 253) throw new InvalidEmailError('domain'); // RFC 1034 §3.1 in A-labels
  return host.split('.').map(uLabel).join('.').toLowerCase().normalize('NFC');
}

/**
 * `email_norm` of PROTOCOL.md §1. Throws {@link InvalidEmailError} for an address the rule
 * refuses; the result is a fixed point (`normalizeEmail(result) === result`).
 * @param {string} email
 * @returns {string}
 */
export function normalizeEmail(email) {
  if (typeof email !== 'string') throw new InvalidEmailError('malformed');
  const text = email.replace(PY_STRIP_RE, '');
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) throw new InvalidEmailError('malformed');
  return `${localPart(text.slice(0, at))}@${domainPart(text.slice(at + 1))}`;
}

/**
 * The string to salt PBKDF2 with (PROTOCOL.md §2): the `kdfEmail` initiate-login returned, but
 * only when it is a form of the typed address (a server must not steer the derivation to
 * another address), else the canonical form of `email`.
 * @param {string} email what the member typed
 * @param {string | null | undefined} kdfEmail
 * @returns {string}
 */
export function kdfSaltEmail(email, kdfEmail) {
  const canonical = normalizeEmail(email);
  if (kdfEmail === undefined || kdfEmail === null) return canonical;
  let same = false;
  try {
    same = typeof kdfEmail === 'string' && normalizeEmail(kdfEmail) === canonical;
  } catch {
    same = false;
  }
  if (!same) throw new Error('kdfEmail from the server is not a form of this email address');
  return kdfEmail;
}

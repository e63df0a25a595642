// Card data versions (PROTOCOL.md §4) in the browser: bring an older card plaintext to the current
// format. meta.version travels in clear beside the encrypted card; after decrypting an older one
// the page calls migrateCard(data, meta.version), shows validateCard's problems for the member to
// fix, re-encrypts and stores it with meta.version = CURRENT_VERSION (PUT /card). The server never
// sees the plaintext. cardcoop/migrations.py is the Python twin; widget/test/fixtures/cards.json
// pins both to the same results.
//
// MIGRATIONS[n] turns version n into version n + 1. Version 0 is the legacy pre-release format of
// the original specification: {type, fio: "Фамилия Имя Отчество", birthdate: "DD.MM.YYYY", phone,
// email, address, passport?: {series, number, issued_by, issued_at: "DD.MM.YYYY", code}}; an
// entrepreneur adds inn, ogrnip, country, city; an organization has org_type, short_name,
// full_name, director_fio, director_position, based_on, inn, ogrn, kpp, country, city, address,
// fact_address, phone, email.
//
// A migration converts; it does not judge. A value it cannot convert (a date not in DD.MM.YYYY, a
// one-word name) is carried over as it is, and so is a field it does not know: nothing is lost
// silently, and validation then shows the member exactly which field to correct.

export const CURRENT_VERSION = 1;

/** The card data cannot be brought to the current version. Messages never contain values. */
export class CardMigrationError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'CardMigrationError';
  }
}

const V0_TYPES = ['individual', 'entrepreneur', 'organization'];
// Separators between the words of a full name: ASCII whitespace and the no-break space (the same
// explicit set as Python; JavaScript's \s and Python's str.split() disagree on exotic ones).
const NAME_SEPARATORS = /[\t\n\v\f\r \u00a0]+/u;
const V0_DATE = /^([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})$/u;

/** @param {unknown} v @returns {v is Record<string, any>} */
const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
/** @param {object} o @param {string} k */
const has = (o, k) => Object.prototype.hasOwnProperty.call(o, k);

/**
 * "Фамилия Имя Отчество" -> last, first, middle; the middle name is "" when there is none and
 * keeps every further word ("Алиев Рашид Мамед оглы" -> middle "Мамед оглы").
 * @param {string} fio
 */
function splitFio(fio) {
  const words = fio.split(NAME_SEPARATORS).filter((w) => w !== '');
  return { last_name: words[0] ?? '', first_name: words[1] ?? '', middle_name: words.slice(2).join(' ') };
}

/** DD.MM.YYYY (day and month may have one digit) -> YYYY-MM-DD; anything else unchanged. @param {unknown} value */
function isoDate(value) {
  if (typeof value !== 'string') return value;
  const m = V0_DATE.exec(value);
  return m ? `${m[3]}-${m[2].padStart(2, '0')}-${m[1].padStart(2, '0')}` : value;
}

/** @param {unknown} value */
function passport(value) {
  if (!isObject(value)) return value;
  const out = { ...value };
  if (has(out, 'issued_at')) out.issued_at = isoDate(out.issued_at);
  return out;
}

/** The v0 fields not yet consumed, and the v1 result being built. */
class Card {
  /** @param {Record<string, any>} data */
  constructor(data) {
    /** @type {Record<string, any>} */
    this.rest = { ...data };
    /** @type {Record<string, any>} */
    this.out = {};
  }

  /**
   * @param {string} old
   * @param {{to?: string, convert?: (v: any) => any, into?: Record<string, any>}} [how]
   */
  move(old, { to = old, convert, into = this.out } = {}) {
    if (!has(this.rest, old)) return;
    const value = this.rest[old];
    delete this.rest[old];
    into[to] = convert ? convert(value) : value;
  }

  /** @param {string} old @param {Record<string, any>} into */
  names(old, into) {
    if (typeof this.rest[old] === 'string') {
      Object.assign(into, splitFio(this.rest[old]));
      delete this.rest[old];
    }
  }

  finish() {
    for (const [key, value] of Object.entries(this.rest)) {
      // Unknown fields are kept for validation to flag.
      if (has(this.out, key)) throw new CardMigrationError(`version 0 card has field '${key}' both in its old and its new spelling`);
      this.out[key] = value;
    }
    return this.out;
  }
}

/**
 * Legacy pre-release card -> card.coop/schema/v1.
 * @param {Record<string, any>} data
 * @returns {Record<string, any>}
 */
export function v0ToV1(data) {
  const kind = data.type;
  if (!V0_TYPES.includes(kind)) {
    throw new CardMigrationError('version 0 card: type must be individual, entrepreneur or organization');
  }
  const card = new Card(data);
  delete card.rest.type;
  card.out.person_type = kind;
  /** @type {Record<string, any>} */
  const details = {};
  if (kind === 'organization') {
    card.move('org_type', { to: 'type' });
    card.move('short_name');
    card.move('full_name');
    /** @type {Record<string, any>} */
    const representedBy = {};
    card.names('director_fio', representedBy);
    card.move('director_position', { to: 'position', into: representedBy });
    card.move('based_on', { into: representedBy });
    if (Object.keys(representedBy).length > 0) card.out.represented_by = representedBy;
    card.move('country');
    card.move('city');
    card.move('address', { to: 'full_address' });
    card.move('fact_address');
    card.move('phone');
    card.move('email');
    for (const field of ['inn', 'ogrn', 'kpp']) card.move(field, { into: details });
  } else {
    card.names('fio', card.out);
    card.move('birthdate', { convert: isoDate });
    card.move('phone');
    card.move('email');
    card.move('address', { to: 'full_address' });
    if (has(card.rest, 'passport') && card.rest.passport === null) delete card.rest.passport; // "no passport"
    card.move('passport', { convert: passport });
    if (kind === 'entrepreneur') {
      card.move('country');
      card.move('city');
      card.move('inn', { into: details });
      card.move('ogrnip', { to: 'ogrn', into: details });
    }
  }
  if (Object.keys(details).length > 0) card.out.details = details;
  return card.finish();
}

/** @type {Readonly<Record<number, (data: Record<string, any>) => Record<string, any>>>} */
export const MIGRATIONS = Object.freeze({ 0: v0ToV1 });

/**
 * The card plaintext `data` of format `version`, brought to CURRENT_VERSION (a new object; `data`
 * is not modified). Throws CardMigrationError for a version this code does not know, including a
 * newer one (reload the page), and for data that is not a JSON object.
 * @param {unknown} data
 * @param {number} version
 * @returns {Record<string, any>}
 */
export function migrateCard(data, version) {
  if (!Number.isInteger(version)) throw new CardMigrationError('card data version must be an integer');
  if (version > CURRENT_VERSION) {
    throw new CardMigrationError(
      `card data version ${version} is newer than this page supports (${CURRENT_VERSION}); reload the page`,
    );
  }
  for (let step = version; step < CURRENT_VERSION; step++) {
    if (!has(MIGRATIONS, String(step))) throw new CardMigrationError(`unknown card data version ${version}`);
  }
  if (!isObject(data)) throw new CardMigrationError('card data must be a JSON object');
  /** @type {Record<string, any>} */
  let result = structuredClone(data);
  for (let step = version; step < CURRENT_VERSION; step++) result = MIGRATIONS[step](result);
  return result;
}

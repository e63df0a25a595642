// A reduced card validator, used only if widget/src/card cannot be loaded: the schema's
// required/enum/length/pattern rules and the FNS check digits, with the same kind of problems
// ({path: JSON Pointer, message_ru, message_en}, messages starting with the field's label).
// widget/src/card is the reference (shared fixtures with the SDK); this keeps forms usable.

/**
 * A schema node with its local $ref merged in (the node's own keywords win, as titles do).
 * @param {any} root @param {any} node
 */
export function resolve(root, node) {
  let out = node ?? {};
  for (let depth = 0; typeof out.$ref === 'string' && depth < 16; depth += 1) {
    const { $ref, ...own } = out;
    const target = $ref.slice(2).split('/').reduce((/** @type {any} */ at, part) => at?.[part], root);
    out = { ...target, ...own };
  }
  return out;
}

/** @param {string} digits @param {number[]} weights */
const check = (digits, weights) => (weights.reduce((sum, w, i) => sum + w * Number(digits[i]), 0) % 11) % 10;

/** @type {Record<string, (v: string) => [string, string] | null>} */
const FORMATS = {
  date: (v) => {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
    const d = m && new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
    return d && d.getUTCDate() === +m[3] && d.getUTCMonth() === +m[2] - 1 ? null : ['неверная дата', 'invalid date'];
  },
  email: (v) => (/^[^\s@"(),:;<>[\\\]]+@[^\s@"(),:;<>[\\\]]+\.[^\s@"(),:;<>[\\\]]+$/.test(v) ? null : ['неверный адрес', 'invalid address']),
  'ru-phone': (v) => {
    const digits = v.replace(/\D/g, '');
    return /^\+?[0-9 ()-]+$/.test(v) && digits.length >= 10 && digits.length <= 15 ? null : ['неверный номер', 'invalid number'];
  },
  'ru-inn': (v) => {
    const ok = v.length === 10
      ? check(v, [2, 4, 10, 3, 5, 9, 4, 6, 8]) === +v[9]
      : v.length === 12 && check(v, [7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) === +v[10] &&
        check(v, [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) === +v[11];
    return ok ? null : ['неверная контрольная цифра', 'wrong check digit'];
  },
  'ru-ogrn': (v) => (/^\d{13}$/.test(v) && Number((BigInt(v.slice(0, 12)) % 11n) % 10n) === +v[12] ? null : ['неверная контрольная цифра', 'wrong check digit']),
  'ru-ogrnip': (v) => (/^\d{15}$/.test(v) && Number((BigInt(v.slice(0, 14)) % 13n) % 10n) === +v[14] ? null : ['неверная контрольная цифра', 'wrong check digit']),
  'ru-kpp': () => null,
};

/**
 * @param {any} schema the card schema
 * @param {any} data
 * @returns {Array<{path: string, message_ru: string, message_en: string}>}
 */
export function validateCard(schema, data) {
  /** @type {Array<{path: string, message_ru: string, message_en: string}>} */
  const problems = [];
  const say = (/** @type {string} */ path, /** @type {any} */ node, /** @type {[string, string]} */ [ru, en]) => {
    const label = node?.title ? [`${node.title}: `, `${node['x-title-en'] ?? node.title}: `] : ['', ''];
    problems.push({ path, message_ru: label[0] + ru, message_en: label[1] + en });
  };
  const type = data?.person_type;
  const branch = (schema.oneOf ?? []).map((/** @type {any} */ b) => resolve(schema, b))
    .find((/** @type {any} */ b) => b.properties?.person_type?.const === type);
  if (!branch) {
    say('/person_type', schema.properties?.person_type, ['выберите одно из допустимых значений', 'must be one of the allowed values']);
    return problems;
  }
  const walk = (/** @type {any} */ node, /** @type {any} */ value, /** @type {string} */ path) => {
    for (const name of node.required ?? []) {
      if (!(name in value)) say(`${path}/${name}`, resolve(schema, node.properties[name]), ['обязательное поле', 'required field']);
    }
    for (const [name, item] of Object.entries(value)) {
      const prop = node.properties?.[name];
      if (!prop) {
        problems.push({ path: `${path}/${name}`, message_ru: 'Неизвестное поле', message_en: 'Unknown field' });
        continue;
      }
      const p = resolve(schema, prop);
      if (p.type === 'object') {
        if (item && typeof item === 'object') walk(p, item, `${path}/${name}`);
        continue;
      }
      if (typeof item !== 'string') continue;
      const expected = p['x-expected'] ? [`ожидается ${p['x-expected']}`, `expected ${p['x-expected-en'] ?? p['x-expected']}`] : null;
      if (p.enum && !p.enum.includes(item)) say(`${path}/${name}`, p, ['выберите одно из допустимых значений', 'must be one of the allowed values']);
      else if (p.minLength === 1 && item.length === 0) say(`${path}/${name}`, p, ['заполните поле', 'must not be empty']);
      else if ((p.minLength && item.length < p.minLength) || (p.maxLength && item.length > p.maxLength) ||
               (p.pattern && !new RegExp(p.pattern, 'u').test(item))) {
        say(`${path}/${name}`, p, /** @type {[string, string]} */ (expected ?? ['неверный формат', 'invalid format']));
      } else if (p.format && FORMATS[p.format]) {
        const bad = FORMATS[p.format](item);
        if (bad) say(`${path}/${name}`, p, bad);
      }
    }
  };
  if (data && typeof data === 'object') walk(branch, data, '');
  return problems.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The reduced library: no migrations (an old card is shown as stored, with a notice). */
export function fallbackLib() {
  return { validateCard, migrateCard: null, CURRENT_VERSION: 1, fallback: true };
}

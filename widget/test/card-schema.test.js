// The card schema (idp/card/schema_v1.json) and widget/src/card/schema.js. The samples live in
// test/fixtures/cards.json, shared with tests/cardcoop/test_sdk_schema.py: both implementations
// must give exactly the problems (paths and messages) recorded there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  FORMAT_NAMES,
  SCHEMA_ID,
  isValidDate,
  isValidEmail,
  isValidInn,
  isValidKpp,
  isValidOgrn,
  isValidOgrnip,
  isValidRuPhone,
  validateCard,
} from '../src/card/index.js';

/** @type {any} */
const schema = JSON.parse(await readFile(new URL('../../idp/card/schema_v1.json', import.meta.url), 'utf8'));
/** @type {any} */
const fixtures = JSON.parse(await readFile(new URL('./fixtures/cards.json', import.meta.url), 'utf8'));

/**
 * Every subschema that describes a property, with its path in the schema.
 * @param {any} node @param {string} at @param {[string, any][]} out
 */
function properties(node, at, out) {
  if (node === null || typeof node !== 'object') return out;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'properties') for (const [name, prop] of Object.entries(value)) out.push([`${at}/properties/${name}`, prop]);
    properties(value, `${at}/${key}`, out);
  }
  return out;
}

test('schema: id, draft, one branch per person_type, closed objects', () => {
  assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
  assert.equal(schema.$id, SCHEMA_ID);
  assert.deepEqual(schema.properties.person_type.enum, ['individual', 'entrepreneur', 'organization']);
  const branches = schema.oneOf.map((/** @type {any} */ b) => schema.$defs[b.$ref.split('/').pop()]);
  assert.deepEqual(branches.map((/** @type {any} */ b) => b.properties.person_type.const), ['individual', 'entrepreneur', 'organization']);
  for (const branch of branches) {
    assert.equal(branch.type, 'object');
    assert.equal(branch.additionalProperties, false);
    assert.ok(branch.required.includes('person_type'));
  }
  const [, , organization] = branches;
  assert.deepEqual(organization.properties.type.enum, ['coop', 'ooo', 'oao', 'zao', 'pao', 'ao']);
  assert.deepEqual(Object.keys(organization.properties.type['x-enum-titles']), organization.properties.type.enum);
});

test('schema: every property has a Russian title and an English x-title-en', () => {
  const props = properties(schema, '#', []);
  assert.ok(props.length > 40);
  for (const [where, prop] of props) {
    assert.equal(typeof prop.title, 'string', where);
    assert.match(prop.title, /[А-Яа-яЁё]/u, where);
    assert.equal(typeof prop['x-title-en'], 'string', where);
    assert.doesNotMatch(prop['x-title-en'], /[А-Яа-яЁё]/u, where);
  }
});

test('schema: every format it names is asserted, every object is closed', () => {
  const text = JSON.stringify(schema);
  const formats = new Set([...text.matchAll(/"format":"([^"]+)"/gu)].map((m) => m[1]));
  assert.deepEqual([...formats].sort(), [...FORMAT_NAMES].sort());
  for (const [where, prop] of properties(schema, '#', [])) {
    if (prop.type === 'object') assert.equal(prop.additionalProperties, false, where);
  }
});

test('fixtures: the valid cards have no problems', () => {
  assert.ok(fixtures.valid.length >= 5);
  for (const { name, data } of fixtures.valid) assert.deepEqual(validateCard(schema, data), [], name);
});

test('fixtures: each invalid card has exactly the recorded problem', () => {
  assert.ok(fixtures.invalid.length >= 30);
  for (const { name, data, path, message_ru, message_en } of fixtures.invalid) {
    assert.deepEqual(validateCard(schema, data), [{ path, message_ru, message_en }], name);
  }
});

test('problems never repeat the value', () => {
  for (const { data, path } of fixtures.invalid) {
    let value = data;
    for (const key of path.split('/').slice(1)) value = value?.[key];
    if (typeof value !== 'string' || value.trim().length < 3) continue;
    for (const problem of validateCard(schema, data)) {
      assert.ok(!problem.message_ru.includes(value.trim()) && !problem.message_en.includes(value.trim()), path);
    }
  }
});

test('several problems: one per field, sorted by path', () => {
  const card = structuredClone(fixtures.valid[0].data);
  card.email = 'nope';
  card.phone = '12';
  card.passport.code = '1';
  card.extra = 1;
  delete card.first_name;
  const before = structuredClone(card);
  const problems = validateCard(schema, card);
  assert.deepEqual(problems.map((p) => p.path), ['/email', '/extra', '/first_name', '/passport/code', '/phone']);
  assert.deepEqual(card, before, 'the card is not modified');
});

test('birthdate: not after today (the latest date on Earth), not before 1900', () => {
  const card = structuredClone(fixtures.valid[0].data);
  const at = (/** @type {string} */ birthdate, /** @type {string} */ today) => validateCard(schema, { ...card, birthdate }, { today });
  assert.deepEqual(at('2020-01-01', '2020-01-01'), []);
  assert.equal(at('2020-01-02', '2020-01-01')[0].message_en, 'Date of birth: must not be in the future');
  assert.deepEqual(at('1900-01-01', '2020-01-01'), []);
  assert.equal(at('1899-12-31', '2020-01-01')[0].message_ru, 'Дата рождения: не может быть раньше 1900 года');
  const day = 24 * 3600 * 1000;
  const utcToday = new Date().toISOString().slice(0, 10);
  const inTwoDays = new Date(Date.now() + 2 * day).toISOString().slice(0, 10);
  assert.deepEqual(validateCard(schema, { ...card, birthdate: utcToday }), []);
  assert.equal(validateCard(schema, { ...card, birthdate: inTwoDays }).length, 1);
  assert.throws(() => validateCard(schema, card, { today: '01.01.2020' }), /today/);
  // The rule is about people: an organization has no birthdate (and may not have one).
  assert.equal(validateCard(schema, { ...fixtures.valid[3].data, birthdate: '2999-01-01' })[0].message_en, 'Unknown field');
});

test('real-world identifiers and check digits', () => {
  assert.ok(isValidInn('7707083893')); // Sberbank
  assert.ok(isValidInn('7736207543'));
  assert.ok(isValidInn('500100732259'));
  assert.ok(!isValidInn('7707083894'));
  assert.ok(!isValidInn('500100732258'));
  assert.ok(!isValidInn('500100732269')); // the 11th digit wrong
  assert.ok(!isValidInn('77070838931'));
  assert.ok(!isValidInn(7707083893));
  assert.ok(isValidOgrn('1027700132195')); // Sberbank
  assert.ok(!isValidOgrn('1027700132194'));
  assert.ok(!isValidOgrn('304500116000157'));
  assert.ok(isValidOgrnip('304500116000157'));
  assert.ok(!isValidOgrnip('304500116000158'));
  assert.ok(!isValidOgrnip('1027700132195'));
  assert.ok(isValidKpp('773601001'));
  assert.ok(isValidKpp('7736AB001'));
  assert.ok(!isValidKpp('7736ab001'));
  assert.ok(!isValidKpp('77360100'));
  assert.ok(!isValidKpp('773601001\n'));
});

test('phones, emails and dates', () => {
  for (const ok of ['+7 (916) 123-45-67', '89161234567', '79161234567', '(812) 123-45-67', '+44 20 7946 0958', '+380441234567']) {
    assert.ok(isValidRuPhone(ok), ok);
  }
  // Without + a number is read as Russian: 380441234567 is a Ukrainian number only with its +.
  for (const bad of ['+7 916 123 45 6', '+7 916 123 45 678', '8 916 123 45 678', '123456789', '+1234567890123456', '+7 916 ABC 45 67', '++79161234567', '7916+1234567', '', '+', '380441234567']) {
    assert.ok(!isValidRuPhone(bad), bad);
  }
  for (const ok of ['a@b.ru', 'ivan.petrov+card@example.co.uk', 'john@почта.рф']) assert.ok(isValidEmail(ok), ok);
  for (const bad of ['a@b', 'a b@c.ru', 'a@b..ru', '@b.ru', 'a@b.r', 'a@@b.ru', `${'a'.repeat(65)}@b.ru`]) assert.ok(!isValidEmail(bad), bad);
  for (const ok of ['2000-02-29', '1900-01-01', '2024-12-31']) assert.ok(isValidDate(ok), ok);
  for (const bad of ['1900-02-29', '2023-02-29', '2024-04-31', '2024-00-10', '0000-01-01', '2024-1-1', '2024-01-01T00:00', '١٩٩٠-٠١-٠١']) {
    assert.ok(!isValidDate(bad), bad);
  }
});

test('the validator refuses schemas with keywords it does not implement', () => {
  assert.throws(() => validateCard({ type: 'object', minProperties: 1 }, {}), /unsupported JSON Schema keyword: minProperties/);
  assert.throws(() => validateCard({ $ref: 'https://example.com/s' }, {}), /local \$ref/);
});

test('oneOf without a discriminator reports the value itself', () => {
  const s = { title: 'Значение', 'x-title-en': 'Value', oneOf: [{ type: 'string', maxLength: 1 }, { type: 'string', minLength: 3 }] };
  assert.deepEqual(validateCard(s, 'a'), []);
  assert.deepEqual(validateCard(s, 'ab'), [
    { path: '', message_ru: 'Значение: выберите одно из допустимых значений', message_en: 'Value: must be one of the allowed values' },
  ]);
});

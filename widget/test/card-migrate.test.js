// Card data versions (PROTOCOL.md §4): widget/src/card/migrate.js. The v0 samples and their v1
// results live in test/fixtures/cards.json, shared with tests/cardcoop/test_sdk_migrations.py.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { CURRENT_VERSION, CardMigrationError, MIGRATIONS, migrateCard, validateCard } from '../src/card/index.js';

/** @type {any} */
const schema = JSON.parse(await readFile(new URL('../../idp/card/schema_v1.json', import.meta.url), 'utf8'));
/** @type {any} */
const fixtures = JSON.parse(await readFile(new URL('./fixtures/cards.json', import.meta.url), 'utf8'));

test('one step per version up to the current one', () => {
  assert.equal(CURRENT_VERSION, 1);
  assert.deepEqual(Object.keys(MIGRATIONS), ['0']);
  assert.ok(Object.isFrozen(MIGRATIONS));
});

test('fixtures: v0 cards of every type become the recorded v1 cards', () => {
  const types = new Set();
  for (const { name, data, v1, problems } of fixtures.v0) {
    const before = structuredClone(data);
    const migrated = migrateCard(data, 0);
    assert.deepEqual(migrated, v1, name);
    assert.deepEqual(data, before, `${name}: the input is not modified`);
    assert.deepEqual(validateCard(schema, migrated).map((p) => p.path), problems, name);
    if (problems.length === 0) types.add(migrated.person_type);
  }
  assert.deepEqual([...types].sort(), ['entrepreneur', 'individual', 'organization']);
});

test('the current version is returned as a copy', () => {
  const card = fixtures.valid[0].data;
  const same = migrateCard(card, CURRENT_VERSION);
  assert.deepEqual(same, card);
  assert.notEqual(same, card);
  assert.notEqual(same.passport, card.passport);
});

test('unknown and future versions are refused with a clear error', () => {
  const card = fixtures.v0[0].data;
  assert.throws(() => migrateCard(card, 2), (e) => e instanceof CardMigrationError && /version 2 is newer than this page supports \(1\)/.test(e.message));
  assert.throws(() => migrateCard(card, -1), /unknown card data version -1/);
  for (const bad of [1.5, NaN, '0', null, undefined]) {
    assert.throws(() => migrateCard(card, /** @type {any} */ (bad)), /version must be an integer/);
  }
});

test('v0 data that is not a card is refused, naming fields but not values', () => {
  assert.throws(() => migrateCard([], 0), /must be a JSON object/);
  assert.throws(() => migrateCard({ ...fixtures.v0[0].data, type: 'company' }, 0), /type must be individual, entrepreneur or organization/);
  const twice = { ...fixtures.v0[0].data, full_address: 'Москва, ул. Секретная' };
  assert.throws(
    () => migrateCard(twice, 0),
    (e) => e instanceof CardMigrationError && /'full_address'/.test(e.message) && !e.message.includes('Секретная'),
  );
});

test('v0 names: extra words stay in the middle name, separators are ASCII whitespace and NBSP', () => {
  const base = fixtures.v0[0].data;
  const names = (/** @type {string} */ fio) => {
    const { last_name, first_name, middle_name } = migrateCard({ ...base, fio }, 0);
    return [last_name, first_name, middle_name];
  };
  assert.deepEqual(names('Алиев Рашид Мамед оглы'), ['Алиев', 'Рашид', 'Мамед оглы']);
  assert.deepEqual(names('\tПетров\u00a0\u00a0Иван\n'), ['Петров', 'Иван', '']);
  assert.deepEqual(names(''), ['', '', '']);
});

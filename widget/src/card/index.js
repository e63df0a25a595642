// The member card in the browser: the public API of widget/src/card (schema card.coop/schema/v1,
// PROTOCOL.md §3-4). The schema itself comes from GET /card/schema (idp/card/schema_v1.json).
export {
  SCHEMA_ID,
  BIRTHDATE_MIN,
  FORMAT_NAMES,
  validateCard,
  isValidDate,
  isValidEmail,
  isValidRuPhone,
  isValidInn,
  isValidOgrn,
  isValidOgrnip,
  isValidKpp,
} from './schema.js';
export { normalizeCard, normalizePassportPart, normalizePhone } from './normalize.js';
export { CURRENT_VERSION, MIGRATIONS, CardMigrationError, migrateCard, v0ToV1 } from './migrate.js';

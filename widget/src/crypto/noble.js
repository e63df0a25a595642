// The single door to the bundled vendor libraries (noble, and punycode for email_norm). Every
// module under src/crypto imports them from here, so Node (tests) and the browser (served as
// /static/widget/src/ beside /static/widget/dist/) resolve the same relative path and no import
// map is needed. dist/noble.js is produced by `npm run build` from src/vendor-entry.js.
export * from '../../dist/noble.js';

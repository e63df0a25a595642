// Entry for `npm run build` → dist/zxcvbn.js: the zxcvbn-ts password strength estimator with
// the common (keyboard layouts, common passwords) and English dictionaries. There is no Russian
// dictionary package; idp/static/app/password.js adds a short list of common Russian passwords
// (in Cyrillic and typed on a Latin layout) as extra dictionary words. Large (about 1.5 MB
// minified), so the page imports it only on the screens that set a new password.
export { ZxcvbnFactory } from '@zxcvbn-ts/core';
export { dictionary as commonDictionary, adjacencyGraphs } from '@zxcvbn-ts/language-common';
export { dictionary as enDictionary, translations as enTranslations } from '@zxcvbn-ts/language-en';

// Entry for `npm run build` → dist/phone.js: libphonenumber-js with the "max" metadata, so that
// "is this a valid number" means what Python's `phonenumbers.is_valid_number` means (the "min"
// metadata only checks lengths). Both implementations are pinned to tests/data/phones.json.
export { parsePhoneNumberFromString, isValidPhoneNumber } from 'libphonenumber-js/max';

// Types for ./noble.js (whose bundle in dist/ carries none): the same names as in the packages.
export { secp256k1 } from '@noble/curves/secp256k1.js';
export { p256 } from '@noble/curves/nist.js';
export { ripemd160 } from '@noble/hashes/legacy.js';
export { sha256 } from '@noble/hashes/sha2.js';
/** punycode.js `decode`: RFC 3492 Punycode (without "xn--") to a string; throws RangeError. */
export function punycodeDecode(input: string): string;
/** punycode.js `encode`: a string to RFC 3492 Punycode (without "xn--"). */
export function punycodeEncode(input: string): string;

// Types for ./noble.js (whose bundle in dist/ carries none): the same names as in the packages.
export { secp256k1 } from '@noble/curves/secp256k1.js';
export { p256 } from '@noble/curves/nist.js';
export { ripemd160 } from '@noble/hashes/legacy.js';
export { sha256 } from '@noble/hashes/sha2.js';

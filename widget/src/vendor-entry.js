// Entry for `npm run build`: the only vendor pieces the widget uses, bundled by esbuild into
// dist/noble.js so that browser pages need no import map or CDN (CSP script-src 'self').
// (Its siblings: src/vendor-phone.js → dist/phone.js, src/vendor-zxcvbn.js → dist/zxcvbn.js.)
// WebCrypto has no secp256k1 and no RIPEMD-160, so these come from noble; everything else
// (PBKDF2, HKDF, HMAC, AES-GCM, AES-KW, SHA-256 for JOSE) goes through crypto.subtle.
//
// - secp256k1: Antelope K1 keys and ECDH-ES to K1 recipients (PROTOCOL §5, §6).
// - p256: ECDH-ES to P-256 JWK recipients with a caller-fixed ephemeral key (test vectors);
//   WebCrypto cannot derive a public point from a bare scalar.
// - ripemd160: K1 string checksums (PROTOCOL §5).
// - sha256: the synchronous double-SHA-256 checksum of legacy WIF private keys (PROTOCOL §5).
// - punycode (RFC 3492, punycode.js): A-labels back to U-labels for email_norm (PROTOCOL §1).
//   The browser's URL parser maps a domain to A-labels (UTS #46) but has no way back.
export { secp256k1 } from '@noble/curves/secp256k1.js';
export { p256 } from '@noble/curves/nist.js';
export { ripemd160 } from '@noble/hashes/legacy.js';
export { sha256 } from '@noble/hashes/sha2.js';
export { decode as punycodeDecode, encode as punycodeEncode } from 'punycode/punycode.es6.js';

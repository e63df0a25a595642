// card.coop protocol v1 in the browser: the public API of widget/src/crypto.
// See protocol/PROTOCOL.md in the repository (normative) and vectors-v1.json (pinned by widget/test).
export {
  b64uEncode,
  b64uDecode,
  utf8Encode,
  utf8Decode,
  hexEncode,
  hexDecode,
  base58Encode,
  base58Decode,
  serializeHeader,
  parseCompactJwe,
} from './encoding.js';
export { InvalidEmailError, emailScript, kdfSaltEmail, normalizeEmail } from './email.js';
export {
  DEFAULT_ITERATIONS,
  MIN_ITERATIONS,
  normalizePassword,
  checkKdfParams,
  defaultKdf,
  deriveKeys,
  deriveKeysRaw,
  decoySalt,
} from './kdf.js';
export {
  CTY,
  sealEnvelope,
  openEnvelope,
  generateCardKey,
  importCardKey,
  wrapCardKey,
  unwrapCardKey,
  rewrapCardKey,
  encryptPersonalData,
  decryptPersonalData,
  encryptAccount,
  decryptAccount,
} from './envelope.js';
export {
  generateRecoveryKey,
  formatRecoveryKey,
  parseRecoveryKey,
  recoveryEncKey,
  recoveryAuthKey,
  wrapCardKeyForRecovery,
  unwrapCardKeyWithRecovery,
  recoverWrappedCardKey,
} from './recovery.js';
export {
  parsePrivateKey,
  formatPrivateKey,
  formatWif,
  parsePublicKey,
  formatPublicKey,
  formatLegacyPublicKey,
  publicKeyOf,
  generateKeyPair,
  toJwk,
  toPrivateJwk,
  jwkToPublicKey,
  jwkThumbprint,
  generateUsername,
  isValidAntelopeName,
} from './k1.js';
export { SHARE_CTY, concatKdf, encryptShare, decryptShare } from './share.js';

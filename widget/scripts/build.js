// Reproducible vendor build: bundle only the vendor pieces into minified ES modules that browser
// pages load from 'self' (no CDN, no import map), one per entry:
//   src/vendor-entry.js  → dist/noble.js   noble (secp256k1, P-256, RIPEMD-160, SHA-256), punycode
//   src/vendor-phone.js  → dist/phone.js   libphonenumber-js (card phones to E.164)
//   src/vendor-zxcvbn.js → dist/zxcvbn.js  zxcvbn-ts (password strength; loaded only when needed)
// Same input + same locked versions (package-lock.json) => same bytes.
//   node scripts/build.js              always build (npm run build)
//   node scripts/build.js --if-missing build only when a dist/ bundle is absent or older than its
//                                      inputs (npm test: a checkout that added a vendor export)
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const ENTRIES = { noble: 'src/vendor-entry.js', phone: 'src/vendor-phone.js', zxcvbn: 'src/vendor-zxcvbn.js' };
const path = (/** @type {string} */ name) => fileURLToPath(new URL(`../${name}`, import.meta.url));
const outputs = Object.keys(ENTRIES).map((name) => path(`dist/${name}.js`));

const inputs = [...Object.values(ENTRIES), 'package-lock.json', 'scripts/build.js'].map(path);
const fresh = () => outputs.every((out) => existsSync(out) &&
  inputs.every((input) => statSync(input).mtimeMs <= statSync(out).mtimeMs));
if (process.argv.includes('--if-missing') && fresh()) process.exit(0);

await build({
  absWorkingDir: root,
  entryPoints: ENTRIES,
  outdir: path('dist'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022', // noble needs BigInt; every browser with WebCrypto AES-KW/HKDF has ES2022
  minify: true,
  sourcemap: false,
  legalComments: 'eof', // keep the packages' licence notices in the bundles
  logLevel: 'info',
});

// Reproducible vendor build: bundle only the vendor pieces (noble, punycode) listed in
// src/vendor-entry.js into one minified ES module, dist/noble.js, that browser pages load from
// 'self' (no CDN, no import map).
// Same input + same locked versions (package-lock.json) => same bytes.
//   node scripts/build.js              always build (npm run build)
//   node scripts/build.js --if-missing build only when dist/noble.js is absent or older than its
//                                      inputs (npm test: a checkout that added a vendor export)
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outfile = fileURLToPath(new URL('../dist/noble.js', import.meta.url));

const inputs = ['src/vendor-entry.js', 'package-lock.json'].map((name) => fileURLToPath(new URL(`../${name}`, import.meta.url)));
const fresh = () => existsSync(outfile) &&
  inputs.every((input) => statSync(input).mtimeMs <= statSync(outfile).mtimeMs);
if (process.argv.includes('--if-missing') && fresh()) process.exit(0);

await build({
  absWorkingDir: root,
  entryPoints: ['src/vendor-entry.js'],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022', // noble needs BigInt; every browser with WebCrypto AES-KW/HKDF has ES2022
  minify: true,
  sourcemap: false,
  legalComments: 'eof', // keep noble's MIT notices in the bundle
  logLevel: 'info',
});

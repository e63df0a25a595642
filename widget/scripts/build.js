// Reproducible vendor build: bundle only the noble pieces listed in src/vendor-entry.js into one
// minified ES module, dist/noble.js, that browser pages load from 'self' (no CDN, no import map).
// Same input + same locked versions (package-lock.json) => same bytes.
//   node scripts/build.js              always build (npm run build)
//   node scripts/build.js --if-missing build only when dist/noble.js is absent (npm test)
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outfile = fileURLToPath(new URL('../dist/noble.js', import.meta.url));

if (process.argv.includes('--if-missing') && existsSync(outfile)) process.exit(0);

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

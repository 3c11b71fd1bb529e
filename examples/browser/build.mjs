// Bundles the page's host and the guest worker as two entries with esbuild. `vbus`
// resolves to its browser build through the package's "browser" export condition
// (esbuild's platform 'browser' selects it), so nothing Node-only is bundled.
// Run: node examples/browser/build.mjs [outdir]   (default: examples/browser/dist)
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const outdir = process.argv[2] ?? `${here}dist`;
mkdirSync(outdir, { recursive: true });
await build({
  entryPoints: { host: `${here}host.js`, guest: `${here}guest.js` },
  bundle: true,
  format: 'esm', // the guest is a module worker; top-level await needs ESM
  platform: 'browser',
  target: 'es2022',
  outdir,
  logLevel: 'warning',
});
copyFileSync(`${here}index.html`, `${outdir}/index.html`);
console.log(`built ${outdir}/host.js, guest.js, index.html`);

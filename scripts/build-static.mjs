// The demo pages as a folder any static host can serve (`npm run build:static`, after
// `npm run build`): web/ at the top, the compiled runtime under dist/ (the same layout
// the demo server serves, so every relative import and worker URL stays valid), and the
// coi-serviceworker shim (an npm package) beside the pages.
//
// A page of this build picks its transport when it loads (web/transport-mode.js):
//  - served with COOP/COEP: cross-origin isolated, shared memory;
//  - served without them: the shim registers a service worker that adds the headers and
//    reloads the page once, which is then isolated (shared memory);
//  - where service workers are unavailable: the message transport.
// Nothing here is committed: dist-static/ is listed in .gitignore.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outArg = process.argv.indexOf('--out');
const out = outArg >= 0 ? process.argv[outArg + 1] : join(root, 'dist-static');
const quiet = process.argv.includes('--quiet');
const log = (msg) => { if (!quiet) console.log(`[build:static] ${msg}`); };

const distSrc = join(root, 'dist', 'src', 'browser.js');
if (!existsSync(distSrc)) {
  console.error('[build:static] dist/ is missing: run `npm run build` first (npm run build:static does)');
  process.exit(1);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// The pages and their scripts.
cpSync(join(root, 'web'), out, { recursive: true });

// The compiled runtime a page loads (JavaScript only: no declarations or maps).
const keepJs = (src) => !/\.(d\.ts|map)$/.test(src);
for (const dir of ['src', 'assembly']) {
  cpSync(join(root, 'dist', dir), join(out, 'dist', dir), { recursive: true, filter: keepJs });
}

// The topology files the demo page builds from (web/demo.js fetches demo.yaml).
cpSync(join(root, 'examples', 'topologies'), join(out, 'examples', 'topologies'), { recursive: true });

// The service-worker shim, from its package (the script registers itself, so it must be
// served from the pages' own folder: a service worker controls only pages below it).
const require = createRequire(import.meta.url);
const shim = require.resolve('coi-serviceworker/coi-serviceworker.min.js');
cpSync(shim, join(out, 'coi-serviceworker.js'));

// Each page: mark it as the static build, and load the shim before anything else.
const SHIM_TAG = '<meta name="vbus-build" content="static">\n  <script src="./coi-serviceworker.js"></script>';
let pages = 0;
for (const name of readdirSync(out)) {
  if (!name.endsWith('.html')) continue;
  const file = join(out, name);
  const html = readFileSync(file, 'utf8');
  const at = html.indexOf('<meta charset="utf-8">');
  if (at < 0) throw new Error(`${name} has no <meta charset="utf-8"> to put the shim after`);
  const end = at + '<meta charset="utf-8">'.length;
  writeFileSync(file, `${html.slice(0, end)}\n  ${SHIM_TAG}${html.slice(end)}`);
  pages++;
}
log(`${pages} page(s), runtime and coi-serviceworker in ${out}`);

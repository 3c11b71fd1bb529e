// The fingerprint of everything the build reads (sources, configs, the build scripts):
// scripts/build.mjs stores it in dist/build-inputs.json when a build succeeds, and the
// tests' global setup (test/global-setup.ts) rebuilds when it no longer matches, so no
// test can run against a stale dist/. A content hash, not mtimes: a checkout or a copy
// may give old files new times and the other way round.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';

const INPUT_DIRS = ['assembly', 'src', 'bench'];
const INPUT_FILES = ['asconfig.json', 'tsconfig.json', 'package.json', 'scripts/build.mjs', 'scripts/check-wasm.mjs', 'scripts/build-inputs.mjs'];
const GENERATED = new Set(['src/core/core-wasm.generated.ts']);
const SOURCE = /\.(ts|mts|js|mjs|json|html|css)$/;

function walk(root, dir, out) {
  if (!existsSync(join(root, dir))) return;
  for (const ent of readdirSync(join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${ent.name}`;
    if (ent.isDirectory()) {
      if (ent.name === 'node_modules' || ent.name === 'results' || ent.name === 'dist') continue;
      walk(root, rel, out);
    } else if (SOURCE.test(ent.name) && !GENERATED.has(rel)) {
      out.push(rel);
    }
  }
}

/** Hex SHA-256 over the paths and contents of every build input under `root`. */
export function buildInputsHash(root) {
  const files = [];
  for (const d of INPUT_DIRS) walk(root, d, files);
  for (const f of INPUT_FILES) if (existsSync(join(root, f))) files.push(f);
  files.sort();
  const h = createHash('sha256');
  for (const f of files) {
    h.update(relative(root, join(root, f)));
    h.update('\0');
    h.update(readFileSync(join(root, f)));
    h.update('\0');
  }
  return h.digest('hex');
}

export const STAMP_PATH = 'dist/build-inputs.json';

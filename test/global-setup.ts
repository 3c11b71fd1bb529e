/**
 * Runs once before any test file: the tests import the built runtime from dist/ (the
 * same files the worker threads load), so dist/ must be the build of the sources as
 * they are now. `npm test` builds in its pretest step; a direct `npx vitest run` after
 * an edit would otherwise test the old build. The build stores a hash of its inputs
 * (scripts/build-inputs.mjs); when it is missing or differs, this builds again, and a
 * failed build fails the run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildInputsHash, STAMP_PATH } from '../scripts/build-inputs.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

function builtFrom(): string | null {
  const stamp = `${root}/${STAMP_PATH}`;
  if (!existsSync(stamp)) return null;
  try { return (JSON.parse(readFileSync(stamp, 'utf8')) as { inputs?: string }).inputs ?? null; } catch { return null; }
}

export default function setup(): void {
  const now = buildInputsHash(root);
  const built = builtFrom();
  if (built === now) return;
  console.log(`[test] dist/ is ${built === null ? 'missing' : 'stale (the sources changed since the last build)'}: building`);
  const r = spawnSync(process.execPath, ['scripts/build.mjs', '--quiet'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`the build failed (exit ${r.status}); the tests would run against a stale dist/`);
  if (builtFrom() !== buildInputsHash(root)) throw new Error('dist/ is still stale after a build: were the sources edited during it?');
}

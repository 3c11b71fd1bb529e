/**
 * Path handling for the admin view: absolute, '/'-separated, resolved lexically
 * (`.` and `..` are applied to the text, as a shell does for `cd -L`), with symlinks
 * followed by the view itself.
 */
import { vbusError } from '../errors.js';

/** Splits an absolute path into components, applying `.` and `..`. Throws EINVAL for a relative or non-text path. */
export function splitPath(path: string): string[] {
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw vbusError('EINVAL', `path ${JSON.stringify(path)} must be absolute (start with '/')`, { path });
  }
  if (path.includes('\0')) throw vbusError('EINVAL', `path ${JSON.stringify(path)} contains NUL`, { path });
  return applyComponents([], path.split('/'));
}

/** Appends `parts` to `base`, applying `.`/`..` and skipping empty parts. */
export function applyComponents(base: readonly string[], parts: readonly string[]): string[] {
  const out = [...base];
  for (const p of parts) {
    if (p === '' || p === '.') continue;
    if (p === '..') out.pop();
    else out.push(p);
  }
  return out;
}

/** Joins components into an absolute path. */
export function joinPath(parts: readonly string[]): string {
  return '/' + parts.join('/');
}

/**
 * Order of entries in listings and in `tree`: names made only of digits (device ids,
 * member ids, interface numbers) by value, so 10 follows 9; everything else by code
 * unit, which is `tree`'s order in the C locale.
 */
export function compareNames(a: string, b: string): number {
  const da = /^\d+$/.test(a);
  const db = /^\d+$/.test(b);
  if (da && db) return Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0);
  return a < b ? -1 : a > b ? 1 : 0;
}

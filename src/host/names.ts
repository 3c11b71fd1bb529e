/**
 * Names of classes, devices, buses and attributes become path components in the
 * admin view, so they follow file-name rules: non-empty, at most 255 bytes of UTF-8
 * (what a Linux file-name component holds), no `/`, not `.` or `..`, no leading or
 * trailing whitespace (which `echo` and shell quoting make impossible to type back),
 * and no character that would change how a listing reads: control characters (NUL,
 * newline, tab, ... a name with a newline prints as two lines in `tree`) and the
 * bidirectional-text controls (which reorder what a terminal shows).
 */
import { vbusError } from '../errors.js';

/** Longest name accepted, in UTF-8 bytes (a file-name component on Linux). */
export const NAME_MAX = 255;

/** C0 and C1 controls, DEL, and the bidi marks, embeddings, overrides and isolates. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

const utf8 = new TextEncoder();

/** Throws EINVAL, naming `what`, unless `name` is a usable path component. */
export function checkName(name: unknown, what: string): string {
  const bytes = typeof name === 'string' ? utf8.encode(name).length : 0;
  if (typeof name !== 'string' || name.length === 0 || bytes > NAME_MAX
    || name === '.' || name === '..' || name.includes('/') || UNPRINTABLE.test(name)
    || name.trim() !== name || !name.isWellFormed()) {
    const why = typeof name === 'string' && bytes > NAME_MAX ? ` (${bytes} bytes of UTF-8)` : '';
    throw vbusError('EINVAL', `${what} name ${JSON.stringify(name)} is not valid${why}: use 1-${NAME_MAX} bytes of UTF-8, no '/', no control or bidirectional-control characters (newline, tab, NUL, U+202E, ...), no surrounding spaces, not '.' or '..'`, { name });
  }
  return name;
}

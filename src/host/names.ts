/**
 * Names of classes, devices, buses and attributes become path components in the
 * admin view, so they follow file-name rules: non-empty, at most 255 characters, no
 * `/`, no NUL, not `.` or `..`, no leading or trailing whitespace (which `echo` and
 * shell quoting make impossible to type back).
 */
import { vbusError } from '../errors.js';

/** Longest name accepted (a file-name component on Linux). */
export const NAME_MAX = 255;

/** Throws EINVAL, naming `what`, unless `name` is a usable path component. */
export function checkName(name: unknown, what: string): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > NAME_MAX
    || name === '.' || name === '..' || name.includes('/') || name.includes('\0')
    || name.trim() !== name) {
    throw vbusError('EINVAL', `${what} name ${JSON.stringify(name)} is not valid: use 1-${NAME_MAX} characters, no '/', NUL or surrounding spaces, not '.' or '..'`, { name });
  }
  return name;
}

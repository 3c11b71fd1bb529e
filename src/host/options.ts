/**
 * Option objects are checked before anything happens: a key the call does not know is
 * refused with the key named (a misspelt `memorybytes` must not be silently ignored),
 * and sizes must be whole numbers.
 */
import { vbusError } from '../errors.js';

/** Throws EINVAL naming the first key of `opts` not in `known`. `opts` may be undefined. */
export function checkOptionKeys(opts: object | undefined, known: readonly string[], what: string): void {
  if (opts === undefined) return;
  if (opts === null || typeof opts !== 'object') {
    throw vbusError('EINVAL', `${what}: options must be an object, not ${opts === null ? 'null' : typeof opts}`, {});
  }
  for (const key of Object.keys(opts)) {
    if (!known.includes(key)) {
      const near = known.find((k) => k.toLowerCase() === key.toLowerCase());
      throw vbusError('EINVAL', `${what}: unknown option '${key}'${near ? ` (did you mean '${near}'?)` : ''}; known: ${known.join(', ')}`, { option: key });
    }
  }
}

/** Throws EINVAL unless `value` is undefined or a safe integer >= `min`. */
export function checkIntegerOption(value: unknown, name: string, what: string, min = 0): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw vbusError('EINVAL', `${what}: ${name} ${JSON.stringify(value)} must be an integer >= ${min}`, { option: name, value });
  }
}

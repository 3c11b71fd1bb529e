/**
 * Checked readers for state data being loaded. A saved state is input from outside the
 * process (a file), so a class's `prepare` reads every field through these: each one
 * names the field's path and what was expected, and throws a VbusError (EINVAL) before
 * anything changes.
 */
import { vbusError } from '../errors.js';
import type { StateValue } from './codec.js';

/** A field reader rooted at one value; `at` is its path in messages (e.g. `vdisk.counters`). */
export class StateReader {
  constructor(readonly value: StateValue | undefined, readonly at: string) {}

  private fail(want: string): never {
    const got = this.value === undefined ? 'nothing' : this.value === null ? 'null' : Array.isArray(this.value) ? 'an array' : this.value instanceof Uint8Array ? 'bytes' : typeof this.value;
    throw vbusError('EINVAL', `state field ${this.at}: expected ${want}, found ${got}`, { field: this.at });
  }

  /** The field `key` of this object. */
  field(key: string): StateReader {
    const v = this.value;
    if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) this.fail('an object');
    return new StateReader((v as Record<string, StateValue>)[key], `${this.at}.${key}`);
  }

  /** True if this object has field `key`. */
  has(key: string): boolean {
    const v = this.value;
    return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array) && key in v;
  }

  /** The keys of this object. */
  keys(): string[] {
    const v = this.value;
    if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) this.fail('an object');
    return Object.keys(v as object);
  }

  /** The elements of this array. */
  items(): StateReader[] {
    if (!Array.isArray(this.value)) this.fail('an array');
    return (this.value as StateValue[]).map((x, i) => new StateReader(x, `${this.at}[${i}]`));
  }

  /** An integer in [min, max]. */
  int(min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.value;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(`an integer from ${min} to ${max}`);
    return v as number;
  }

  /** A finite number. */
  number(): number {
    if (typeof this.value !== 'number' || !Number.isFinite(this.value)) this.fail('a number');
    return this.value as number;
  }

  str(): string {
    if (typeof this.value !== 'string') this.fail('text');
    return this.value as string;
  }

  bool(): boolean {
    if (typeof this.value !== 'boolean') this.fail('true or false');
    return this.value as boolean;
  }

  bytes(): Uint8Array {
    if (!(this.value instanceof Uint8Array)) this.fail('bytes');
    return this.value as Uint8Array;
  }

  /** Text that names one of `choices`. */
  oneOf<T extends string>(choices: readonly T[]): T {
    const s = this.str();
    if (!choices.includes(s as T)) this.fail(`one of ${choices.join(', ')}`);
    return s as T;
  }
}

/**
 * Arguments and results of recorded calls, as document values and back, and digests
 * of them (what a replay compares without storing every byte twice).
 */
import { vbusError } from '../errors.js';
import type { StateValue } from '../state/codec.js';
import { crc32 } from '../state/crc32.js';
import type { Run } from './mirror.js';

/** A call argument or result as a document value. */
export function toValue(v: unknown, what: string): StateValue {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (v instanceof Uint8Array) return v.slice();
  if (v instanceof Error) return { error: v.message };
  if (Array.isArray(v)) return v.map((x) => toValue(x, what));
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const o: Record<string, StateValue> = {};
    for (const [k, x] of Object.entries(v)) o[k] = toValue(x, what);
    return o;
  }
  throw vbusError('ENOTSUP', `${what}: a ${Object.prototype.toString.call(v)} cannot be recorded`, { what });
}

/** The inverse of {@link toValue} (an Error comes back as an Error with its message). */
export function fromValue(v: StateValue): unknown {
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)) {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === 'error' && typeof v['error'] === 'string') return new Error(v['error']);
  }
  return v;
}

/** CRC-32 and total length of runs: [crc, bytes]. */
export function runsDigest(runs: readonly Run[]): [number, number] {
  let c = 0, n = 0;
  const head = new Uint8Array(8);
  const dv = new DataView(head.buffer);
  for (const [off, b] of runs) {
    dv.setUint32(0, off, true);
    dv.setUint32(4, b.length, true);
    c = crc32(b, crc32(head, c));
    n += b.length;
  }
  return [c, n];
}

/** CRC-32 of a list of arguments (byte arrays by content). */
export function argsDigest(args: readonly unknown[]): number {
  let c = 0;
  const enc = new TextEncoder();
  for (const a of args) {
    if (a instanceof Uint8Array) c = crc32(a, c);
    else c = crc32(enc.encode(typeof a === 'object' && a !== null ? (a instanceof Error ? a.message : '{}') : String(a)), c);
  }
  return c;
}

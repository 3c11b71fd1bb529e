/**
 * Shared pieces of the demo's stand-in devices (vdisk, vconsole, vrng until their real
 * classes are merged): a model that serves DEVCALLs only, no rings. Each stand-in is a
 * small table of functions; the request is copied out of the call slot before it is
 * read (the slot is guest-writable and the reply area overlaps it).
 */
import type { DeviceConnection } from '../../connector/types.js';
import type { DeviceModel } from '../../host/device-model.js';
import { ERRNO, vbusError } from '../../errors.js';

/** One DEVCALL function: gets a private copy of the request, writes the reply into `out`. */
export type CallHandler = (req: Uint8Array, out: Uint8Array, conn: DeviceConnection) => number;

/** Counters every stand-in keeps (shown as attributes). */
export interface CallCounters {
  calls: number;
  errors: number;
}

/** A model answering DEVCALL `func` from `handlers`; unknown functions answer ENOSYS. */
export function callModel(version: number, handlers: Record<number, CallHandler>, counters: CallCounters): DeviceModel {
  return {
    open(conn) {
      if (conn.version !== version) throw vbusError('ENOTSUP', `interface version ${conn.version} is not supported (expected ${version})`, { version: conn.version });
    },
    call(conn, func, payload, out) {
      counters.calls++;
      const h = handlers[func];
      if (!h) { counters.errors++; return -ERRNO.ENOSYS; }
      const r = h(payload.slice(), out, conn);
      if (r < 0) counters.errors++;
      return r;
    },
  };
}

/** Little-endian u32 at `at` of `b`, or -1 if `b` is too short. */
export function u32At(b: Uint8Array, at: number): number {
  if (b.length < at + 4) return -1;
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/** Writes a little-endian u32. */
export function putU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff; b[at + 1] = (v >>> 8) & 0xff; b[at + 2] = (v >>> 16) & 0xff; b[at + 3] = (v >>> 24) & 0xff;
}

/**
 * Atomics.wait / waitAsync / notify on a message-transport bus memory. Its views are
 * over a private ArrayBuffer, where the engine's Atomics.wait and waitAsync throw and
 * notify wakes nobody in another thread; the runtime's protocols (call slots, signals,
 * the event pump, drivers) park and notify with exactly these calls. So, once a thread
 * has a message-transport bus, the three functions are wrapped: for an array over a
 * mirrored bus memory they go to its MirrorSide (mirror.ts), for anything else they
 * are the engine's own, untouched. This keeps guests, drivers and device models the
 * same code on both transports.
 */
import { mirrorOf, type MirrorSide } from './mirror.js';

let installed = false;

type IntArray = Int32Array | BigInt64Array;

function sideOf(arr: unknown): MirrorSide | undefined {
  if (!(arr instanceof Int32Array)) return undefined;
  return mirrorOf(arr.buffer);
}

/** Installs the wrappers once per thread. */
export function installAtomicsShim(): void {
  if (installed) return;
  installed = true;
  const A = Atomics as unknown as {
    wait(a: IntArray, i: number, v: number | bigint, t?: number): string;
    waitAsync?(a: IntArray, i: number, v: number | bigint, t?: number): unknown;
    notify(a: IntArray, i: number, c?: number): number;
  };
  const wait = A.wait, waitAsync = A.waitAsync, notify = A.notify;
  A.wait = function (arr, index, value, timeout) {
    const side = sideOf(arr);
    if (!side) return wait.call(Atomics, arr, index, value, timeout);
    return side.waitSync(((arr as Int32Array).byteOffset >> 2) + index, Number(value), timeout ?? Infinity);
  };
  A.waitAsync = function (arr, index, value, timeout) {
    const side = sideOf(arr);
    if (!side) {
      if (!waitAsync) throw new TypeError('Atomics.waitAsync is not available');
      return waitAsync.call(Atomics, arr, index, value, timeout);
    }
    return side.waitAsync(((arr as Int32Array).byteOffset >> 2) + index, Number(value), timeout ?? Infinity);
  };
  A.notify = function (arr, index, count) {
    const side = sideOf(arr);
    if (!side) return notify.call(Atomics, arr, index, count);
    return side.notify(((arr as Int32Array).byteOffset >> 2) + index);
  };
}

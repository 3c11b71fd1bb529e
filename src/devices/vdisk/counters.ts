/**
 * A vdisk's counters, in a SharedArrayBuffer so that the host thread and every backend
 * worker serving the device add into the same words (the buffer travels in the backend's
 * start data). Models add once per poll, not per request.
 */
import { sharedOrPrivateBuffer } from '../../platform/shared-memory.js';

/** Counter names, in slot order (also the read-only attribute names). */
export const VDISK_COUNTERS = ['reads', 'writes', 'flushes', 'errors', 'inflight_max'] as const;
export type VdiskCounter = (typeof VDISK_COUNTERS)[number];

const SLOT: Record<VdiskCounter, number> = { reads: 0, writes: 1, flushes: 2, errors: 3, inflight_max: 4 };

export class VdiskCounters {
  private readonly words: BigInt64Array;
  constructor(readonly buffer: SharedArrayBuffer = sharedOrPrivateBuffer(VDISK_COUNTERS.length * 8)) {
    this.words = new BigInt64Array(buffer);
  }

  /** Adds per-poll totals (skipping zeros keeps the idle cost at one branch each). */
  add(reads: number, writes: number, flushes: number, errors: number): void {
    const w = this.words;
    if (reads) Atomics.add(w, SLOT.reads, BigInt(reads)); // relaxed would do; Atomics makes concurrent adds from several backends exact
    if (writes) Atomics.add(w, SLOT.writes, BigInt(writes)); // as above
    if (flushes) Atomics.add(w, SLOT.flushes, BigInt(flushes)); // as above
    if (errors) Atomics.add(w, SLOT.errors, BigInt(errors)); // as above
  }

  /** Raises inflight_max to `n` if larger. */
  observeInflight(n: number): void {
    const w = this.words;
    const v = BigInt(n);
    for (let cur = Atomics.load(w, SLOT.inflight_max); cur < v; cur = Atomics.load(w, SLOT.inflight_max)) {
      if (Atomics.compareExchange(w, SLOT.inflight_max, cur, v) === cur) break; // CAS: another backend may raise it at the same time
    }
  }

  get(name: VdiskCounter): number { return Number(Atomics.load(this.words, SLOT[name])); }

  /** Sets every counter (a loaded state; the device is unlinked, so nobody adds meanwhile). */
  restore(values: Readonly<Record<VdiskCounter, number>>): void {
    for (const name of VDISK_COUNTERS) Atomics.store(this.words, SLOT[name], BigInt(values[name])); // see above
  }
}

/**
 * The device's own copy of its shared regions while it is recorded (or replayed).
 *
 * A recorded device does not work on the bus memory itself but on a private memory of
 * the same size, holding copies of its regions (rings, buffers, signals) at the same
 * offsets. Around every entry into the model the mirror synchronises the two by a
 * three-way comparison with a shadow (what both sides agreed on at the last sync):
 *
 *   before:  bytes the guest changed (bus != shadow) are copied into the private memory;
 *            those copies are the recording's input for this step;
 *   after:   bytes the device changed (private != shadow) are copied to the bus memory,
 *            data first and the ring indices (TAIL, HEAD) last, each with Atomics.store,
 *            so the guest sees a record only after its bytes; a signal the device raised
 *            is raised on the bus.
 *
 * So the device sees a still picture of what the guest wrote for the whole of each
 * step, and the guest sees the device act at the end of the step: a legal interleaving
 * of the two, and the same one on replay, where the inputs come from the recording.
 *
 * Ordering: a guest publishes a ring record by storing its index after the bytes; the
 * mirror reads that index with Atomics.load before it copies the rest of the region, so
 * every record below the index it copies is complete. Bytes the guest changed while the
 * device ran are left in the shadow's old state, so the next sync copies them in.
 */
import { RING_HEADER_BYTES, RING_OFF_HEAD, RING_OFF_TAIL } from '../../assembly/layout/ring.js';
import { SIG_BYTES, SIG_OFF_RAISED, SIG_OFF_SUPPRESSED } from '../../assembly/layout/signal.js';
import { SHM_BUFFER, SHM_RING_TO_DEVICE } from '../../assembly/layout/callslot.js';
import { BusMemory } from '../core/bus-memory.js';
import { Notifier } from '../core/signal.js';
import type { ShmRegion } from '../connector/types.js';

/** A run of changed bytes: where, and the bytes. */
export type Run = [offset: number, bytes: Uint8Array];

interface Watched {
  offset: number;
  bytes: number;
  /** Ring: the offsets of TAIL and HEAD (written last, atomically). */
  ring: boolean;
  /**
   * Who writes the data area: a guest-to-device ring's data is the guest's (the device
   * only moves its consumer line), a device-to-guest ring's is the device's (the guest
   * only moves its consumer line), a buffer's is either's. Comparing only what a side
   * can write keeps each sync to the bytes that matter.
   */
  data: 'guest' | 'device' | 'both';
  /** Data bytes of a ring (its capacity). */
  capacity: number;
}

/**
 * Runs where `a` and `b` differ in [from, to), as copies of `a`'s bytes. Equal stretches
 * are skipped a word at a time (regions are 64-byte aligned; a and b are views of whole
 * memories, so their word views line up); short equal gaps inside a change are merged,
 * so a record is one run, not many.
 */
export function diffRuns(a: Uint8Array, b: Uint8Array, from: number, to: number, out: Run[]): void {
  const a32 = words(a), b32 = words(b);
  let i = from;
  while (i < to) {
    if ((i & 3) === 0) {
      let w = i >> 2;
      const end = to >> 2;
      while (w < end && a32[w] === b32[w]) w++;
      i = w << 2;
      if (i >= to) break;
    }
    if (a[i] === b[i]) { i++; continue; }
    const start = i;
    let last = i; // last differing byte
    for (; i < to && i - last <= 16; i++) if (a[i] !== b[i]) last = i;
    out.push([start, a.slice(start, last + 1)]);
    i = last + 1;
  }
}

const wordViews = new WeakMap<ArrayBufferLike, Uint32Array>();
function words(u8: Uint8Array): Uint32Array {
  let w = wordViews.get(u8.buffer);
  if (!w) { w = new Uint32Array(u8.buffer, 0, u8.buffer.byteLength >> 2); wordViews.set(u8.buffer, w); }
  return w;
}

/** Length of all runs (their bytes). */
export function runBytes(runs: readonly Run[]): number {
  let n = 0;
  for (const [, b] of runs) n += b.length;
  return n;
}

export class DeviceMirror {
  /** The memory the device works on. */
  readonly priv: BusMemory;
  private readonly shadow: Uint8Array;
  private readonly regions: Watched[] = [];
  private readonly signals = new Set<number>();

  /** `bus` is the real bus memory, or null on replay (there is no guest). */
  constructor(readonly bus: BusMemory | null, bytes: number) {
    this.priv = BusMemory.create({ bytes });
    this.shadow = new Uint8Array(this.priv.byteLength);
  }

  /** Starts watching a region a guest set up; returns its present bytes (the step's input on replay). */
  watch(r: ShmRegion): Run[] {
    const ring = r.kind !== SHM_BUFFER;
    const data = !ring ? 'both' : r.kind === SHM_RING_TO_DEVICE ? 'guest' : 'device';
    const w: Watched = { offset: r.offset, bytes: ring ? RING_HEADER_BYTES + r.bytes : r.bytes, ring, data, capacity: ring ? r.bytes : 0 };
    this.regions.push(w);
    const runs: Run[] = [];
    if (this.bus) {
      const src = this.bus.u8.subarray(w.offset, w.offset + w.bytes).slice();
      runs.push([w.offset, src]);
    }
    for (const s of ring ? [r.dataSignal, r.spaceSignal] : []) {
      if (s === 0 || this.signals.has(s)) continue;
      this.signals.add(s);
      if (this.bus) runs.push([s, this.bus.u8.slice(s, s + SIG_BYTES)]);
    }
    return runs;
  }

  /** Stops watching the region at `offset` (its DEVSHM was refused). */
  unwatch(offset: number): void {
    const i = this.regions.findIndex((w) => w.offset === offset);
    if (i >= 0) this.regions.splice(i, 1);
  }

  /** Recording: the guest's changes since the last sync, copied into the private memory. */
  pullFromBus(): Run[] {
    const bus = this.bus!;
    const runs: Run[] = [];
    for (const w of this.regions) {
      let tail = 0, head = 0;
      if (w.ring) {
        tail = Atomics.load(bus.u32, (w.offset + RING_OFF_TAIL) >> 2); // indices before the bytes they publish
        head = Atomics.load(bus.u32, (w.offset + RING_OFF_HEAD) >> 2);
      }
      const from = runs.length;
      diffRuns(bus.u8, this.shadow, w.offset, w.offset + (w.data === 'device' ? RING_HEADER_BYTES : w.bytes), runs);
      if (w.ring) {
        // The copies must hold the indices as loaded above, not a later value.
        for (let i = from; i < runs.length; i++) patchWord(runs[i]!, w.offset + RING_OFF_TAIL, tail);
        for (let i = from; i < runs.length; i++) patchWord(runs[i]!, w.offset + RING_OFF_HEAD, head);
      }
    }
    for (const s of this.signals) diffRuns(bus.u8, this.shadow, s, s + SIG_BYTES, runs);
    this.apply(runs);
    return runs;
  }

  /** Copies runs into the private memory and the shadow (recording: from the bus; replay: from the file). */
  apply(runs: readonly Run[]): void {
    for (const [off, b] of runs) {
      this.priv.u8.set(b, off);
      this.shadow.set(b, off);
    }
  }

  /**
   * After a step: what the device changed (ring and buffer bytes) and how often it
   * signalled each watched signal. When recording, the changes go to the bus memory
   * (indices last) and the signals are raised there.
   */
  pushToBus(): { runs: Run[]; raised: Array<[number, number]> } {
    const runs: Run[] = [];
    for (const w of this.regions) {
      if (w.data === 'both') { diffRuns(this.priv.u8, this.shadow, w.offset, w.offset + w.bytes, runs); continue; }
      diffRuns(this.priv.u8, this.shadow, w.offset, w.offset + RING_HEADER_BYTES, runs);
      if (w.data === 'guest') continue;
      // The device produced the records between the last synced TAIL and its TAIL now.
      const sv = new DataView(this.shadow.buffer);
      const was = sv.getUint32(w.offset + RING_OFF_TAIL, true);
      const now = this.priv.u32[(w.offset + RING_OFF_TAIL) >> 2]!;
      const span = (now - was) >>> 0;
      const base = w.offset + RING_HEADER_BYTES;
      if (span === 0) continue;
      if (span >= w.capacity) { diffRuns(this.priv.u8, this.shadow, base, base + w.capacity, runs); continue; }
      const start = was & (w.capacity - 1);
      const first = Math.min(span, w.capacity - start);
      diffRuns(this.priv.u8, this.shadow, base + start, base + start + first, runs);
      if (span > first) diffRuns(this.priv.u8, this.shadow, base, base + (span - first), runs);
    }
    const raised: Array<[number, number]> = [];
    const p32 = this.priv.u32;
    const sv = new DataView(this.shadow.buffer);
    for (const s of this.signals) {
      const n = (p32[(s + SIG_OFF_RAISED) >> 2]! - sv.getUint32(s + SIG_OFF_RAISED, true) + p32[(s + SIG_OFF_SUPPRESSED) >> 2]! - sv.getUint32(s + SIG_OFF_SUPPRESSED, true)) >>> 0;
      if (n > 0) raised.push([s, n]);
      // The private signal words follow the bus's again at the next pull.
      this.priv.u8.set(this.shadow.subarray(s, s + SIG_BYTES), s);
    }
    const bus = this.bus;
    const indices: number[] = [];
    for (const [off, b] of runs) {
      this.shadow.set(b, off);
      // The ring indices inside this run are left out here and stored last, atomically.
      const words: number[] = [];
      for (const w of this.regions) {
        if (!w.ring) continue;
        for (const word of [w.offset + RING_OFF_TAIL, w.offset + RING_OFF_HEAD]) if (word + 4 > off && word < off + b.length) words.push(word);
      }
      words.sort((x, y) => x - y);
      indices.push(...words);
      if (!bus) continue;
      let at = off;
      for (const word of [...words, off + b.length]) {
        const end = Math.min(word, off + b.length);
        if (end > at) bus.u8.set(b.subarray(at - off, end - off), at);
        at = Math.max(at, word + 4);
      }
    }
    if (bus) {
      for (const word of indices) Atomics.store(bus.u32, word >> 2, this.priv.u32[word >> 2]!); // after the bytes it publishes
      for (const [s] of raised) new Notifier(bus, s).raise(); // after the data it announces
    }
    return { runs, raised };
  }
}

/** Overwrites the u32 at `word` inside a run, if the run covers it. */
function patchWord(run: Run, word: number, value: number): void {
  const [off, b] = run;
  if (word < off || word + 4 > off + b.length) return;
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(word - off, value >>> 0, true);
}

/**
 * The "hand-rolled ring" baseline: the core's algorithm written in plain TypeScript
 * over a SharedArrayBuffer, so the benchmark can show what the WebAssembly core buys.
 *
 * Same algorithm as assembly/ring.ts: variable-length records with an 8-byte header
 * (LEN u32, TAG u32), 8-byte alignment, a padding record instead of a split record at
 * the end, free-running u32 byte indices, TAIL and HEAD on separate 64-byte lines, each
 * side caching the other's index, and the same index/length checks (a bad peer makes
 * the ring return FAULT). It uses the same layout constants. The signal half
 * ({@link JsSignal}) is the shm-signal protocol of assembly/signal.ts in JS.
 *
 * Differences, on purpose: the private cursors live in JS fields instead of the shared
 * region (a JS ring has no reason to put them there), and the payload copy is
 * `Uint8Array.set` — what a JS author would write.
 *
 * Memory ordering: JS `Atomics` are sequentially consistent; plain typed-array writes
 * made before an `Atomics.store` are visible to a thread whose `Atomics.load` sees it.
 */
import {
  RING_HEADER_BYTES, RING_OFF_TAIL, RING_OFF_HEAD, REC_HEADER_BYTES, RING_PAD_TAG,
} from '../../assembly/layout/ring.js';
import {
  SIG_BYTES, SIG_OFF_ENABLED, SIG_OFF_PENDING, SIG_OFF_SLEEPING,
} from '../../assembly/layout/signal.js';

export const JS_EMPTY = -1;
export const JS_FULL = -2;
export const JS_FAULT = -3;

const PAD = RING_PAD_TAG >>> 0;

/** Bytes a JS ring of `cap` data bytes needs in its buffer. */
export function jsRingBytes(cap: number): number { return RING_HEADER_BYTES + cap; }

class JsRingEnd {
  protected readonly u8: Uint8Array;
  protected readonly u32: Uint32Array;
  protected readonly i32: Int32Array;
  protected readonly data: number;
  protected readonly mask: number;
  protected readonly tailIdx: number;
  protected readonly headIdx: number;
  faulted = false;
  constructor(sab: SharedArrayBuffer, readonly offset: number, readonly cap: number) {
    if ((cap & (cap - 1)) !== 0 || offset % 64 !== 0) throw new RangeError(`js-ring: capacity ${cap} must be a power of two and offset ${offset} 64-aligned`);
    this.u8 = new Uint8Array(sab);
    this.u32 = new Uint32Array(sab);
    this.i32 = new Int32Array(sab);
    this.data = offset + RING_HEADER_BYTES;
    this.mask = cap - 1;
    this.tailIdx = (offset + RING_OFF_TAIL) >> 2;
    this.headIdx = (offset + RING_OFF_HEAD) >> 2;
  }
}

/** Producing end. */
export class JsRingProducer extends JsRingEnd {
  private reserve = 0;
  private cachedHead = 0;

  /** Copies `src` into a new record and publishes it. Returns 0, JS_FULL or JS_FAULT. */
  push(src: Uint8Array, tag = 0): number {
    const at = this.reserveRecord(src.length, tag);
    if (at < 0) return at;
    this.u8.set(src, at);
    this.commit();
    return 0;
  }

  /** Reserves a record; returns its payload offset in the buffer, JS_FULL or JS_FAULT. */
  reserveRecord(len: number, tag: number): number {
    if (this.faulted) return JS_FAULT;
    const cap = this.cap;
    const rec = (REC_HEADER_BYTES + len + 7) & ~7;
    let reserve = this.reserve;
    const pos = reserve & this.mask;
    const toEnd = cap - pos;
    const need = toEnd < rec ? toEnd + rec : rec;
    if (cap - ((reserve - this.cachedHead) >>> 0) < need) {
      const head = Atomics.load(this.u32, this.headIdx); // acquire: the consumer read those bytes before it published HEAD
      const used = (reserve - head) >>> 0;
      if ((head & 7) !== 0 || used > cap) { this.faulted = true; return JS_FAULT; }
      this.cachedHead = head;
      const free = cap - used;
      if (free < need) {
        if (toEnd < rec && free >= toEnd && this.u32[this.tailIdx] === reserve) {
          this.writePad(this.data + pos, toEnd);
          this.reserve = reserve = (reserve + toEnd) >>> 0;
          Atomics.store(this.u32, this.tailIdx, reserve); // pad header before tail
        }
        return JS_FULL;
      }
    }
    let p = pos;
    if (toEnd < rec) {
      this.writePad(this.data + pos, toEnd);
      reserve = (reserve + toEnd) >>> 0;
      p = 0;
    }
    const at = this.data + p;
    this.u32[at >> 2] = len;
    this.u32[(at >> 2) + 1] = tag;
    this.reserve = (reserve + rec) >>> 0;
    return at + REC_HEADER_BYTES;
  }

  /** Publishes every reserved record. */
  commit(): void {
    Atomics.store(this.u32, this.tailIdx, this.reserve); // payloads and headers before tail
  }

  private writePad(at: number, bytes: number): void {
    this.u32[at >> 2] = bytes - REC_HEADER_BYTES;
    this.u32[(at >> 2) + 1] = PAD;
  }
}

/** Consuming end. */
export class JsRingConsumer extends JsRingEnd {
  private read = 0;
  private cachedTail = 0;

  /** Copies the next record into `into` and releases it. Returns its length, JS_EMPTY or JS_FAULT. */
  pop(into: Uint8Array): number {
    if (this.faulted) return JS_FAULT;
    const cap = this.cap;
    let read = this.read;
    let avail = (this.cachedTail - read) >>> 0;
    for (;;) {
      if (avail === 0) {
        const tail = Atomics.load(this.u32, this.tailIdx); // acquire: records written before tail are visible
        avail = (tail - read) >>> 0;
        if ((tail & 7) !== 0 || avail > cap) { this.faulted = true; return JS_FAULT; }
        this.cachedTail = tail;
        if (avail === 0) {
          if (read !== this.read) { this.read = read; Atomics.store(this.u32, this.headIdx, read); } // pad skipped before head
          return JS_EMPTY;
        }
      }
      const pos = read & this.mask;
      const at = this.data + pos;
      const len = this.u32[at >> 2]!; // read once; the producer may rewrite it
      const tag = this.u32[(at >> 2) + 1]!;
      const rec = (REC_HEADER_BYTES + len + 7) & ~7;
      if (len > cap - REC_HEADER_BYTES || rec > cap - pos || rec > avail) { this.faulted = true; return JS_FAULT; }
      read = (read + rec) >>> 0;
      avail -= rec;
      if (tag === PAD) continue;
      if (len > into.length) return JS_FAULT; // the bench always passes a large enough buffer
      const p = at + REC_HEADER_BYTES;
      into.set(this.u8.subarray(p, p + len));
      this.read = read;
      Atomics.store(this.u32, this.headIdx, read); // payload copied out before head
      return len;
    }
  }

  /** Whether something is published and not yet read (the waiter's re-check). */
  hasData(): boolean {
    return Atomics.load(this.u32, this.tailIdx) !== this.read; // acquire: pairs with the producer's tail store
  }
}

/** Bytes a JS signal needs. */
export const JS_SIGNAL_BYTES = SIG_BYTES;

/**
 * The shm-signal protocol (assembly/signal.ts, steps 1-3 and a-e) in JS over the same
 * layout, with a fixed spin before parking.
 */
export class JsSignal {
  private readonly i32: Int32Array;
  private readonly enabledIdx: number;
  private readonly pendingIdx: number;
  private readonly sleepingIdx: number;
  raised = 0;
  suppressed = 0;
  constructor(sab: SharedArrayBuffer, offset: number, readonly spin = 2000) {
    this.i32 = new Int32Array(sab);
    this.enabledIdx = (offset + SIG_OFF_ENABLED) >> 2;
    this.pendingIdx = (offset + SIG_OFF_PENDING) >> 2;
    this.sleepingIdx = (offset + SIG_OFF_SLEEPING) >> 2;
  }
  /** Signaler: after publishing. */
  raise(): void {
    const i32 = this.i32;
    if (Atomics.load(i32, this.enabledIdx) === 0) { this.suppressed++; return; } // after the data store (pairs with enable + re-check)
    if (Atomics.exchange(i32, this.pendingIdx, 1) !== 0) { this.suppressed++; return; } // only the 0 -> 1 edge wakes
    this.raised++;
    if (Atomics.load(i32, this.sleepingIdx) !== 0) Atomics.notify(i32, this.pendingIdx, 1); // after PENDING = 1 (pairs with SLEEPING)
  }
  /** Waiter step a. */
  disable(): void {
    Atomics.store(this.i32, this.enabledIdx, 0); // signalers now see "busy"
    Atomics.store(this.i32, this.pendingIdx, 0); // the drain that follows covers the wake-up
  }
  /** Waiter step b (re-check the data after it). */
  enable(): void { Atomics.store(this.i32, this.enabledIdx, 1); } // before the re-check
  /** Waiter steps d-e. */
  waitSync(): void {
    const i32 = this.i32;
    for (let i = 0; i < this.spin; i++) if (Atomics.load(i32, this.pendingIdx) !== 0) return; // acquire: pairs with raise's exchange
    Atomics.store(i32, this.sleepingIdx, 1); // before wait's PENDING check
    Atomics.wait(i32, this.pendingIdx, 0);
    Atomics.store(i32, this.sleepingIdx, 0);
  }
}

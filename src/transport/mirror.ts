/**
 * The message transport's core: a bus memory that is not shared. Each side (the host,
 * each guest) keeps its own private copy of the bus memory, runs the same wasm core and
 * the same ring, slot and signal code over it, and ships what it changed to the other
 * side in batches (wire.ts) at the points where shared memory would have made it
 * visible to a waiter: when it notifies (Atomics.notify, a raised signal) and before it
 * parks (a wait). The receiver applies the batch, then wakes its waiters.
 *
 * What changed is found by comparison with a shadow: per peer, the memory as that peer
 * last saw it. A flush compares the local copy with each peer's shadow over the extent
 * in use, ships the differing runs and updates the shadow. The host is the hub: a word
 * one guest wrote reaches the host's copy, and from there the other guests' at the
 * host's next flush, so the members of a bus still see one memory.
 *
 * Merge rule, per 32-bit word: if this side did not change the word since it last
 * agreed with the sender (local == shadow), the sender's value is taken. If both
 * changed it, only the bits the sender changed are taken. Almost every word has one
 * writer (SPSC rings: TAIL and the records are the producer's, HEAD the consumer's; the
 * request words of a call slot are the guest's, the reply words the host's), so it is
 * simply copied; the few words both sides write keep their meaning: a slot's STATE moves
 * in turns (REQUEST by the guest, BUSY/DONE by the host), the pending bits of the bus
 * control region merge bit by bit, and a signal's PENDING is a hint that is always
 * paired with an explicit wake-up. Order: one port per guest, FIFO, and a batch is
 * applied whole before any waiter runs, so records are seen in the order published and
 * a reply's payload before its DONE.
 *
 * Everything a guest sends is hostile: decodeBatch checks each bound; a malformed batch
 * is dropped and counted, and a guest can at worst write its own bus memory, which it
 * could do with shared memory too (host-private tables are never mirrored).
 */
import { vbusError } from '../errors.js';
import type { BusMemory } from '../core/bus-memory.js';
import { decodeBatch, encodeBatch, type Batch } from './wire.js';

/** The half of a MessageChannel a side talks through (Node's and the browser's MessagePort). */
export interface MirrorPort {
  postMessage(message: unknown, transfer: Transferable[]): void;
  onmessage: ((ev: { data: unknown }) => void) | null;
  close(): void;
  unref?(): void;
}

/** Counters of one side, for stats() and tests. */
export interface MirrorStats {
  batchesSent: number;
  batchesReceived: number;
  wordsSent: number;
  wordsReceived: number;
  /** Batches refused as malformed (a hostile or broken peer). */
  rejected: number;
  /** Last reason a batch was refused. */
  lastRejection: string | null;
}

/** One other side: its port and the memory as it last saw it. */
export class MirrorPeer {
  readonly wakes = new Set<number>();
  constructor(readonly port: MirrorPort, readonly shadow: Int32Array) {}
}

interface Parked { index: number; expected: number; resolve(r: 'ok' | 'timed-out'): void; timer: ReturnType<typeof setTimeout> | null }

/** Blocks the calling thread until a message arrives on `port` or `timeoutMs` passes (see blocking.ts). */
export type BlockingReceive = (port: MirrorPort, timeoutMs: number) => unknown;

let blockingReceive: BlockingReceive | null = null;

/** Installed by a platform whose workers can block on a port (Node: receiveMessageOnPort). */
export function setBlockingReceive(fn: BlockingReceive | null): void { blockingReceive = fn; }

/** True if synchronous waits work on the message transport in this thread. */
export function canBlock(): boolean { return blockingReceive !== null; }

const sides = new WeakMap<ArrayBufferLike, MirrorSide>();

/** The side that keeps the bus memory behind `buffer` in step, if any. */
export function mirrorOf(buffer: ArrayBufferLike): MirrorSide | undefined { return sides.get(buffer); }

export class MirrorSide {
  readonly peers = new Set<MirrorPeer>();
  readonly stats: MirrorStats = { batchesSent: 0, batchesReceived: 0, wordsSent: 0, wordsReceived: 0, rejected: 0, lastRejection: null };
  private readonly i32: Int32Array;
  private readonly words: number;
  private readonly parked = new Map<number, Set<Parked>>();
  /** Changes or wake-ups wait for the next flush. */
  private flushQueued = false;
  /** A microtask that will flush is queued (a flush in between makes it a no-op). */
  private microtaskQueued = false;
  /** Bytes kept in step: the host's allocation high-water mark, or what the host announced. */
  private extentBytes: number;

  constructor(readonly bus: BusMemory, readonly role: 'host' | 'guest', extent = 0) {
    if (bus.transport !== 'message') throw vbusError('EINVAL', 'only a message-transport bus memory can be mirrored');
    this.i32 = bus.i32;
    this.words = bus.byteLength >> 2;
    this.extentBytes = extent;
    sides.set(bus.memory.buffer, this);
  }

  /** Bytes of the memory this side compares and ships. */
  get extent(): number {
    if (this.role === 'host' && this.bus.allocator) this.extentBytes = Math.max(this.extentBytes, this.bus.allocator.highWater());
    return this.extentBytes;
  }

  /** Adds a peer whose copy equals `shadow` now; its batches are applied from then on. */
  addPeer(port: MirrorPort, shadow: Int32Array): MirrorPeer {
    if (shadow.length !== this.words) throw vbusError('EINVAL', `a peer's shadow has ${shadow.length} words, the memory ${this.words}`);
    const peer = new MirrorPeer(port, shadow);
    this.peers.add(peer);
    port.onmessage = (ev) => { this.receive(peer, ev.data); };
    port.unref?.(); // like a parked Atomics.waitAsync, an idle port does not keep a thread alive
    return peer;
  }

  removePeer(peer: MirrorPeer): void {
    if (!this.peers.delete(peer)) return;
    peer.port.onmessage = null;
    try { peer.port.close(); } catch { /* already closed */ }
  }

  /** Atomics.notify on word `index`: wakes local waiters now, and the peers' after the next flush. */
  notify(index: number): number {
    for (const p of this.peers) p.wakes.add(index);
    this.scheduleFlush();
    return this.wakeLocal(index);
  }

  /** Atomics.waitAsync on word `index` of this memory, carried by messages. */
  waitAsync(index: number, expected: number, timeoutMs: number): { async: false; value: 'not-equal' } | { async: true; value: Promise<'ok' | 'timed-out'> } {
    if (Atomics.load(this.i32, index) !== expected) return { async: false, value: 'not-equal' };
    this.scheduleFlush(); // the peers see what this side did before it parked
    const value = new Promise<'ok' | 'timed-out'>((resolve) => {
      const p: Parked = { index, expected, resolve, timer: null };
      let set = this.parked.get(index);
      if (!set) { set = new Set(); this.parked.set(index, set); }
      set.add(p);
      if (Number.isFinite(timeoutMs)) {
        p.timer = setTimeout(() => { this.unpark(p); resolve('timed-out'); }, Math.max(0, timeoutMs));
      }
    });
    return { async: true, value };
  }

  /**
   * Atomics.wait on word `index`: blocks this thread, receiving batches from the peer
   * until the word changes or a wake-up for it arrives. Only where the platform offers a
   * blocking receive (Node workers); elsewhere it fails with EAGAIN, before anything was
   * sent, so the caller can use an asynchronous form instead.
   */
  waitSync(index: number, expected: number, timeoutMs: number): 'ok' | 'not-equal' | 'timed-out' {
    if (Atomics.load(this.i32, index) !== expected) return 'not-equal';
    const receive = blockingReceive;
    if (!receive) throw syncUnavailable();
    const peer = this.peers.values().next().value as MirrorPeer | undefined;
    if (!peer) return 'timed-out';
    this.flush();
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0) return 'timed-out';
      const msg = receive(peer.port, Math.min(left, 1000));
      if (msg === undefined) continue;
      const woke = this.receive(peer, msg, index);
      if (woke || Atomics.load(this.i32, index) !== expected) return 'ok';
    }
  }

  /** Ships every change (and pending wake-up) to every peer now. */
  flush(): void {
    this.flushQueued = false;
    const extentWords = this.extent >> 2;
    for (const peer of this.peers) {
      const runs: number[] = [];
      const dataWords = diffRuns(this.i32, peer.shadow, extentWords, runs);
      if (dataWords === 0 && peer.wakes.size === 0) continue;
      const buf = encodeBatch(this.i32, runs, dataWords, peer.wakes, extentWords << 2);
      peer.wakes.clear();
      try {
        peer.port.postMessage(buf, [buf]);
      } catch {
        this.removePeer(peer); // the other side is gone
        continue;
      }
      this.stats.batchesSent++;
      this.stats.wordsSent += dataWords;
    }
  }

  /** Flushes at the end of this turn: many signals raised in one stretch go as one batch. */
  scheduleFlush(): void {
    this.flushQueued = true;
    if (this.microtaskQueued) return;
    this.microtaskQueued = true;
    queueMicrotask(() => {
      this.microtaskQueued = false;
      if (this.flushQueued) this.flush();
    });
  }

  /**
   * Applies a batch from `peer`, then wakes the waiters it concerns. Returns whether it
   * carried a wake-up for word `watch` (for waitSync).
   */
  receive(peer: MirrorPeer, msg: unknown, watch = -1): boolean {
    if (!this.peers.has(peer)) return false;
    const b = decodeBatch(msg, this.words);
    if (typeof b === 'string') {
      this.stats.rejected++;
      this.stats.lastRejection = b;
      return false;
    }
    this.apply(peer, b);
    let woke = false;
    for (let i = 0; i < b.wakes.length; i++) {
      const w = b.wakes[i]!;
      if (w === watch) woke = true;
      this.wakeLocal(w);
    }
    // A word that changed under a waiter wakes it too (a notify may have been merged away).
    for (const [index, set] of this.parked) {
      if (set.size && Atomics.load(this.i32, index) !== set.values().next().value!.expected) this.wakeLocal(index);
    }
    return woke;
  }

  private apply(peer: MirrorPeer, b: Batch): void {
    const m = this.i32, s = peer.shadow, data = b.data, runs = b.runs;
    let at = 0;
    for (let r = 0; r < runs.length; r += 2) {
      const start = runs[r]!, end = start + runs[r + 1]!;
      for (let i = start; i < end; i++, at++) {
        const v = data[at]!, cur = m[i]!, sh = s[i]!;
        if (cur === sh) m[i] = v; // not changed here since we last agreed: take theirs
        else { const d = sh ^ v; m[i] = (cur & ~d) | (v & d); } // both changed: take only their bits
        s[i] = v;
      }
    }
    this.stats.batchesReceived++;
    this.stats.wordsReceived += data.length;
    if (this.role === 'guest') this.extentBytes = Math.max(this.extentBytes, b.extent);
  }

  private wakeLocal(index: number): number {
    const set = this.parked.get(index);
    if (!set || set.size === 0) return 0;
    const n = set.size;
    for (const p of [...set]) { this.unpark(p); p.resolve('ok'); }
    return n;
  }

  private unpark(p: Parked): void {
    if (p.timer !== null) clearTimeout(p.timer);
    p.timer = null;
    const set = this.parked.get(p.index);
    set?.delete(p);
    if (set && set.size === 0) this.parked.delete(p.index);
  }

  /** Drops every peer and waiter (the bus is released). */
  close(): void {
    for (const p of [...this.peers]) this.removePeer(p);
    for (const set of this.parked.values()) for (const p of [...set]) { this.unpark(p); p.resolve('ok'); }
    sides.delete(this.bus.memory.buffer);
  }
}

/**
 * Appends (START, LEN) runs where `m` differs from `s` in words [0, n), copies them into
 * `s`, and returns the number of words in all runs. Runs separated by a few equal words
 * are joined (fewer, longer runs cost less than many tiny ones).
 */
export function diffRuns(m: Int32Array, s: Int32Array, n: number, out: number[]): number {
  const JOIN = 8;
  let i = 0, total = 0;
  while (i < n) {
    while (i < n && m[i] === s[i]) i++;
    if (i >= n) break;
    const start = i;
    let end = i + 1, j = i + 1;
    while (j < n && j - end <= JOIN) {
      if (m[j] !== s[j]) end = j + 1;
      j++;
    }
    out.push(start, end - start);
    s.set(m.subarray(start, end), start);
    total += end - start;
    i = end;
  }
  return total;
}

/** The error of a synchronous wait where the thread cannot block on the message transport. */
export function syncUnavailable(): Error {
  return vbusError('EAGAIN', 'this synchronous vbus operation would block, and this bus runs on the message transport in a thread that cannot block (no SharedArrayBuffer here): use the asynchronous form (callAsync, waitAsync, the drivers\' promise APIs) or run driver setup in syncSetup(guest, () => ...)');
}

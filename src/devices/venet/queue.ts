/**
 * One venet TX/RX queue pair as a guest drives it: frames out through the TX ring's
 * producer end, frames in from the RX ring's consumer end. {@link VenetDriver} is the
 * queue of pair 0 plus the device's control side (QUERY, NEGOTIATE, the EVENT ring);
 * with multiqueue a child guest drives another pair through {@link attachVenetQueue}.
 * One thread per queue: nothing here is shared between pairs, so no lock.
 *
 * Sending: {@link VenetQueue.send} / {@link VenetQueue.sendBatch} copy frames into the
 * TX ring, publish them with one commit and tell the device once (suppressed while the
 * device is already draining). They return how much went in (never throw on a full
 * ring): wait for room with {@link VenetQueue.waitSpaceSync} or just retry.
 *
 * Receiving: {@link VenetQueue.poll} drains the RX ring now and calls the listeners;
 * {@link VenetQueue.waitSync} parks a worker until the device signals;
 * {@link VenetQueue.onReceive} starts a loop on the worker's event loop
 * (`rx.dataWaiter.waitAsync`).
 */
import { serveAsync } from '../../core/serve-loop.js';
import { ConsumerEnd, ProducerEnd } from '../../core/queue.js';
import type { ShmRegion } from '../../connector/types.js';
import type { GuestConnector } from '../../guest/connector.js';
import { SHM_RING_TO_DEVICE, SHM_RING_TO_GUEST } from '../../../assembly/layout/callslot.js';
import { vbusError } from '../../errors.js';
import { ETH_ALEN, ETH_HEADER_BYTES, macToText } from './abi.js';

/** Called with a view of a received frame: valid only during the call (copy to keep). */
export type FrameListener = (frame: Uint8Array, flags: number) => void;

/**
 * Called with where a received frame is, without a view made for it: the frame is
 * `bytes[at .. at+len)` (`bytes` is the bus memory), valid only during the call. For a
 * receiver that reads a few header bytes or copies the frame itself: a view per frame
 * costs more than the copy of a small frame.
 */
export type FrameSpanListener = (bytes: Uint8Array, at: number, len: number, flags: number) => void;

/** A received frame kept by the async iterator (a copy). */
export interface ReceivedFrame {
  frame: Uint8Array;
  flags: number;
}

/** One queue pair of an open venet as plain data, for a child guest on the same bus ({@link attachVenetQueue}). */
export interface VenetQueueHandle {
  readonly kind: 'venet-queue';
  readonly bus: string;
  readonly deviceId: number;
  readonly pair: number;
  readonly queues: number;
  readonly tx: ShmRegion;
  readonly rx: ShmRegion;
  readonly mac: Uint8Array;
  readonly mtu: number;
  readonly pollBudget: number;
}

export class VenetQueue {
  /** The interface's MAC as 6 bytes. */
  readonly mac: Uint8Array;
  /** Payload bytes a frame may carry after its 14-byte header. */
  readonly mtu: number;
  protected readonly frameListeners = new Set<FrameListener>();
  protected readonly spanListeners = new Set<FrameSpanListener>();
  private readonly budget: number;
  private looping = false;
  protected closed = false;

  /** @internal Use {@link openVenet} or {@link attachVenetQueue}. */
  constructor(
    /** Guest -> device frames (exposed for tests and tools that write records in place; new ends after a reset). */
    public tx: ProducerEnd<ShmRegion>,
    /** Device -> guest frames. */
    public rx: ConsumerEnd<ShmRegion>,
    /** The queue pair this is (0 for the driver itself). */
    readonly pair: number,
    info: { mac: Uint8Array; mtu: number; pollBudget: number },
  ) {
    this.mac = info.mac;
    this.mtu = info.mtu;
    this.budget = info.pollBudget;
  }

  /** The MAC as text (`aa:bb:cc:dd:ee:ff`). */
  get macText(): string { return macToText(this.mac); }

  /** Largest frame (header included) the device accepts. */
  get maxFrame(): number { return this.mtu + ETH_HEADER_BYTES; }

  /**
   * Sends one frame (copied into the TX ring) and tells the device. Returns false when
   * the ring is full or faulted, or the frame is not 14..mtu+14 bytes (nothing sent).
   */
  send(frame: Uint8Array, flags = 0): boolean {
    if (frame.length < ETH_HEADER_BYTES || frame.length > this.maxFrame) return false;
    const ring = this.tx.ring;
    const at = ring.reserve(frame.length, flags);
    if (at < 0) {
      this.tx.notifyData(); // rule 1 (src/core/ring.ts): FULL may have published a wrap pad only the device can skip
      return false;
    }
    ring.bus.u8.set(frame, at);
    if (ring.commit() < 0) return false;
    this.tx.notifyData();
    return true;
  }

  /**
   * Sends frames in order with one commit and one notification; stops at the first that
   * does not fit (or is not a valid length). Returns how many were sent.
   */
  sendBatch(frames: readonly Uint8Array[], flags = 0): number {
    const ring = this.tx.ring;
    const u8 = ring.bus.u8;
    const max = this.maxFrame;
    let n = 0;
    for (; n < frames.length; n++) {
      const f = frames[n]!;
      if (f.length < ETH_HEADER_BYTES || f.length > max) break;
      const at = ring.reserve(f.length, flags);
      if (at < 0) break;
      u8.set(f, at);
    }
    if (n > 0 && ring.commit() < 0) return 0;
    // One notification for the batch; also when nothing fit (rule 1: a wrap pad may need skipping).
    this.tx.notifyData();
    return n;
  }

  /** Parks this worker until the TX ring may have room (or `timeoutMs`). */
  waitSpaceSync(timeoutMs = 1000): void {
    this.tx.spaceWaiter.parkSync(() => this.tx.ring.used() < this.tx.ring.capacity / 2, timeoutMs);
  }

  /** Adds a frame listener; returns a function that removes it. Starts the async loop. */
  onReceive(fn: FrameListener): () => void {
    this.frameListeners.add(fn);
    this.startLoop();
    return () => { this.frameListeners.delete(fn); };
  }

  /**
   * Adds a frame listener without starting the async loop, for a worker that drives
   * {@link poll} and {@link waitSync} itself. Returns a function that removes it.
   */
  listen(fn: FrameListener): () => void {
    this.frameListeners.add(fn);
    return () => { this.frameListeners.delete(fn); };
  }

  /**
   * Like {@link listen} (no async loop: the worker drives {@link poll}), for a
   * {@link FrameSpanListener}: no object is made per frame. Returns a function that removes it.
   */
  listenSpans(fn: FrameSpanListener): () => void {
    this.spanListeners.add(fn);
    return () => { this.spanListeners.delete(fn); };
  }

  /**
   * Received frames as an async iterator of copies (ends at {@link close}). Frames that
   * arrive while nobody iterates are queued.
   */
  receive(): AsyncIterableIterator<ReceivedFrame> {
    const queue: ReceivedFrame[] = [];
    let wake: (() => void) | null = null;
    const off = this.onReceive((frame, flags) => { queue.push({ frame: frame.slice(), flags }); wake?.(); });
    const self = this;
    return {
      [Symbol.asyncIterator]() { return this; },
      async next(): Promise<IteratorResult<ReceivedFrame>> {
        for (;;) {
          const f = queue.shift();
          if (f) return { value: f, done: false };
          if (self.closed) { off(); return { value: undefined, done: true }; }
          await new Promise<void>((r) => { wake = r; setTimeout(r, 100); });
          wake = null;
        }
      },
      async return(): Promise<IteratorResult<ReceivedFrame>> { off(); return { value: undefined, done: true }; },
    };
  }

  /**
   * Drains the RX ring now, calling the listeners. Returns the number of frames
   * delivered. Never blocks, never throws for ring state.
   */
  poll(): number { return this.pollFrames(); }

  /**
   * Worker form: waits until the device signals new frames (or `timeoutMs`), with the
   * enable / re-check / park protocol. Returns false on timeout.
   */
  waitSync(timeoutMs = 1000): boolean {
    return this.rx.dataWaiter.parkSync(() => this.hasWork(), timeoutMs) !== 'timed-out';
  }

  /** Stops the receive loop (and, for the driver, closes the connection). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.rx.dataWaiter.wake(); // so the receive loop sees `closed`
    this.onClose();
  }

  /** True once closed. */
  get isClosed(): boolean { return this.closed; }

  /** What close() does beyond stopping (the driver closes its connection). */
  protected onClose(): void {}

  /** Step c of the receive loop: is there something to drain? */
  protected hasWork(): boolean { return this.rx.ring.used() > 0; }

  /** The RX drain: frames to the listeners in passes of `pollBudget`, space released after each pass. */
  protected pollFrames(): number {
    const ring = this.rx.ring;
    const u8 = ring.bus.u8;
    let n = 0;
    for (;;) {
      let batch = 0;
      while (batch < this.budget) {
        const len = ring.peek();
        if (len < 0) break;
        const at = ring.peekOffset;
        const flags = ring.tag;
        if (this.frameListeners.size > 0) for (const fn of this.frameListeners) fn(u8.subarray(at, at + len), flags);
        if (this.spanListeners.size > 0) for (const fn of this.spanListeners) fn(u8, at, len, flags);
        batch++;
      }
      if (batch > 0) ring.release(); // the device may reuse the space now
      // Rule 2 (src/core/ring.ts): HEAD may also have moved over a skipped wrap pad.
      if (ring.headMoved()) this.rx.notifySpace(); // tell a device waiting for room (suppressed otherwise)
      n += batch;
      if (batch < this.budget) break;
    }
    return n;
  }

  protected startLoop(): void {
    if (this.looping || this.closed) return;
    this.looping = true;
    void (async () => {
      await Promise.resolve(); // listeners added in the same tick see the first events too
      await serveAsync(this.rx.dataWaiter, {
        drain: () => this.poll(),
        arrived: () => this.hasWork(),
        running: () => !this.closed,
        sliceMs: 250,
      });
      this.looping = false;
    })();
  }
}

/**
 * In a child guest on the same bus: drives queue pair `handle.pair` of a venet its
 * parent opened with several queues (see VenetDriver.queueHandle): send, sendBatch,
 * poll, waitSync, onReceive, receive on that pair. close() stops it without closing the
 * parent's connection (which owns the rings: close the children's queues first). EINVAL
 * for a handle of another bus or kind, ENOTSUP on a bus without shared memory.
 */
export function attachVenetQueue(guest: GuestConnector, handle: VenetQueueHandle): VenetQueue {
  if (handle?.kind !== 'venet-queue' || !handle.tx || !handle.rx) {
    throw vbusError('EINVAL', 'attachVenetQueue: not a venet queue handle (use VenetDriver.queueHandle(pair))');
  }
  if (handle.bus !== guest.busName) {
    throw vbusError('EINVAL', `attachVenetQueue: the handle is for bus ${handle.bus}, this guest is on ${guest.busName}`, { bus: handle.bus });
  }
  if (guest.bus.transport !== 'shared') {
    throw vbusError('ENOTSUP', 'attachVenetQueue: a queue handed to another thread needs shared bus memory (not the message transport)');
  }
  if (handle.tx.kind !== SHM_RING_TO_DEVICE || handle.rx.kind !== SHM_RING_TO_GUEST || handle.mac?.length !== ETH_ALEN) {
    throw vbusError('EINVAL', 'attachVenetQueue: the handle\'s regions are not a TX ring and an RX ring of a venet');
  }
  return new VenetQueue(new ProducerEnd(guest.bus, handle.tx), new ConsumerEnd(guest.bus, handle.rx), handle.pair,
    { mac: handle.mac.slice(), mtu: handle.mtu, pollBudget: handle.pollBudget });
}

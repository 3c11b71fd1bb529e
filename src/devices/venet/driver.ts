/**
 * The guest driver for the virtual-ethernet interface: opens a venet device (any class),
 * sets up its TX, RX and EVENT rings, and offers frames in and out.
 *
 * Sending: {@link VenetDriver.send} / {@link VenetDriver.sendBatch} copy frames into the
 * TX ring, publish them with one commit and raise the device's doorbell once (suppressed
 * while the device is already draining). They return how much went in (never throw on
 * a full ring): wait for room with {@link VenetDriver.waitSpaceSync} or just retry.
 *
 * Receiving: {@link VenetDriver.poll} drains the RX and EVENT rings now and calls the
 * listeners; {@link VenetDriver.waitSync} parks a worker until the device signals;
 * {@link VenetDriver.onReceive} starts a loop on the worker's event loop
 * (`rx.dataWaiter.waitAsync`). The device raises the RX signal after posting an event too,
 * so one waiter covers both rings.
 */
import { serveAsync } from '../../core/serve-loop.js';
import { Status } from '../../core/status.js';
import { checkInterface, declareInterfaceVersions, type Connection, type ConnectionFaultEvent, type ConnectionStatus } from '../../guest/connection.js';
import type { GuestConnector } from '../../guest/connector.js';
import type { ConsumerEnd, ProducerEnd } from '../../core/queue.js';
import type { ShmRegion } from '../../connector/types.js';
import { vbusError } from '../../errors.js';
import {
  VENET_INTERFACE, VENET_VERSION, VENET_QUEUE_TX, VENET_QUEUE_RX, VENET_QUEUE_EVENT, VENET_FUNC_QUERY, VENET_FUNC_NEGOTIATE,
  INFO_BYTES, INFO_OFF_CLIENT_MAC, INFO_OFF_HOST_MAC, INFO_OFF_MTU, INFO_OFF_LINK, INFO_OFF_NEGOTIATED,
  NEGOTIATE_BYTES, ETH_ALEN, ETH_HEADER_BYTES, EVENT_OFF_CODE, EVENT_OFF_ARG, EVENT_LINK_UP, EVENT_LINK_DOWN,
  EVENT_TX_DONE, macToText,
} from './abi.js';

declareInterfaceVersions(VENET_INTERFACE, [VENET_VERSION]);

/** Ring sizes a driver asks for (bytes of data area; powers of two). */
export interface VenetOptions {
  /** TX ring bytes (default 256 KiB). */
  txBytes?: number;
  /** RX ring bytes (default 256 KiB). */
  rxBytes?: number;
  /** EVENT ring bytes (default 4 KiB). */
  eventBytes?: number;
  /** Most frames one poll pass delivers before releasing ring space (default 256). */
  pollBudget?: number;
  /** Deadline of each call opening and setting up the device, ms (ETIMEDOUT). Default: the guest's call timeout. */
  timeoutMs?: number;
}

/** Called with a view of a received frame: valid only during the call (copy to keep). */
export type FrameListener = (frame: Uint8Array, flags: number) => void;
/** Called on LINK_UP (true) / LINK_DOWN (false). */
export type LinkListener = (up: boolean) => void;

/** A received frame kept by the async iterator (a copy). */
export interface ReceivedFrame {
  frame: Uint8Array;
  flags: number;
}

const DEFAULT_TX = 256 * 1024;
const DEFAULT_RX = 256 * 1024;
const DEFAULT_EVENT = 4096;

export class VenetDriver {
  /** The interface's MAC as 6 bytes (from the device's `client_mac`, or per port for a switch). */
  readonly mac: Uint8Array;
  /** The device side's MAC (`host_mac`). */
  readonly hostMac: Uint8Array;
  /** Payload bytes a frame may carry after its 14-byte header. */
  readonly mtu: number;
  /** The ring queues (exposed for tests and tools that write records in place; new ends after a reset). */
  tx: ProducerEnd<ShmRegion>;
  rx: ConsumerEnd<ShmRegion>;
  events: ConsumerEnd<ShmRegion>;
  /** Feature bits agreed with {@link negotiate} (0 until then). */
  features = 0;
  /** NEGOTIATE calls this driver made (a driver resumed from a saved bus makes none: the device kept its features). */
  negotiations = 0;
  /** Frames the device reported consumed (EVENT_TX_DONE, needs VENET_F_TX_DONE). */
  txCompleted = 0;
  private link: boolean;
  private readonly frameListeners = new Set<FrameListener>();
  private readonly linkListeners = new Set<LinkListener>();
  private readonly evScratch = new Uint8Array(64);
  private readonly evView: DataView;
  private readonly budget: number;
  private looping = false;
  private closed = false;
  private readonly callOpts: { timeoutMs?: number };
  /** Features last offered with negotiate() (offered again after a reset). */
  private offered: number | null = null;
  /** Resets whose rings this driver attached to. */
  private attachedResets = 0;
  private readonly faultListeners = new Set<(e: ConnectionFaultEvent) => void>();

  /** @internal Use {@link openVenet}. */
  constructor(readonly conn: Connection, opts: VenetOptions = {}) {
    this.callOpts = callOpts(opts);
    const info = conn.call(VENET_FUNC_QUERY, undefined, this.callOpts);
    if (info.length < INFO_BYTES) {
      throw vbusError('EPROTO', `device ${conn.deviceId} answered the venet query with ${info.length} bytes, expected ${INFO_BYTES}`, { len: info.length });
    }
    const v = new DataView(info.buffer, info.byteOffset, info.length);
    this.mac = info.slice(INFO_OFF_CLIENT_MAC, INFO_OFF_CLIENT_MAC + ETH_ALEN);
    this.hostMac = info.slice(INFO_OFF_HOST_MAC, INFO_OFF_HOST_MAC + ETH_ALEN);
    this.mtu = v.getUint32(INFO_OFF_MTU, true);
    this.link = v.getUint32(INFO_OFF_LINK, true) === 1;
    this.features = v.getUint32(INFO_OFF_NEGOTIATED, true);
    this.budget = opts.pollBudget ?? 256;
    this.evView = new DataView(this.evScratch.buffer);
    // EVENT first: the device answers its setup with the current link state.
    this.events = conn.rxQueue(VENET_QUEUE_EVENT, opts.eventBytes ?? DEFAULT_EVENT);
    this.rx = conn.rxQueue(VENET_QUEUE_RX, opts.rxBytes ?? DEFAULT_RX);
    this.tx = conn.txQueue(VENET_QUEUE_TX, opts.txBytes ?? DEFAULT_TX);
    // An admin's bus reset re-formats a faulted connection's rings and says so (DEVRESET):
    // attach again, outside the event dispatch (it calls the device).
    conn.onFault((e) => {
      if (e.kind === 'reset' && e.resets > this.attachedResets) void Promise.resolve().then(() => { if (!this.closed && e.resets > this.attachedResets) this.reattach(e.resets); });
      for (const fn of this.faultListeners) fn(e);
    });
  }

  /** True when the host said this connection needs a reset (see {@link reset}). */
  get needsReset(): boolean { return this.conn.needsReset; }

  /** The host's view of this connection now (asks it: a call). */
  status(): ConnectionStatus { return this.conn.status(this.callOpts); }

  /**
   * Listens for this device's fault and reset events: 'fault' (the host found a ring of
   * this connection corrupt: frames stop until a reset) and 'reset'. Returns an unsubscribe function.
   */
  onFault(fn: (e: ConnectionFaultEvent) => void): () => void {
    this.faultListeners.add(fn);
    return () => { this.faultListeners.delete(fn); };
  }

  /**
   * Resets the device's rings (virtio's device reset, for this connection): the host
   * re-formats them, the device starts the port afresh, this driver attaches new ends
   * and offers its features again. Frames in the rings at the time are lost; listeners
   * stay. Throws VbusError if the call fails (ENODEV once unplugged).
   */
  reset(): void {
    if (this.closed) throw vbusError('EBADF', `venet device ${this.conn.deviceId}: reset after close`);
    this.reattach(this.conn.reset(this.callOpts));
  }

  private reattach(resets: number): void {
    this.attachedResets = resets;
    this.events = this.events.renew();
    this.rx = this.rx.renew();
    this.tx = this.tx.renew();
    this.pendingLinkQuery();
    if (this.offered !== null) this.negotiate(this.offered);
  }

  /** After a reset the device posts the link state again; until then the last known state stands. */
  private pendingLinkQuery(): void {
    const info = this.conn.call(VENET_FUNC_QUERY, undefined, this.callOpts);
    if (info.length >= INFO_BYTES) this.link = new DataView(info.buffer, info.byteOffset, info.length).getUint32(INFO_OFF_LINK, true) === 1;
  }

  /** The MAC as text (`aa:bb:cc:dd:ee:ff`). */
  get macText(): string { return macToText(this.mac); }

  /** Link state as last reported by the device. */
  get linkUp(): boolean { return this.link; }

  /** Largest frame (header included) the device accepts. */
  get maxFrame(): number { return this.mtu + ETH_HEADER_BYTES; }

  /**
   * Offers feature bits; returns (and keeps) the negotiated set: what the device
   * supports and its admin allows. Throws VbusError if the call fails.
   */
  negotiate(features: number): number {
    const req = new Uint8Array(NEGOTIATE_BYTES);
    new DataView(req.buffer).setUint32(0, features >>> 0, true);
    this.offered = features >>> 0;
    this.negotiations++;
    const out = this.conn.call(VENET_FUNC_NEGOTIATE, req, this.callOpts);
    if (out.length < NEGOTIATE_BYTES) throw vbusError('EPROTO', `negotiate answered ${out.length} bytes`, { len: out.length });
    this.features = new DataView(out.buffer, out.byteOffset, out.length).getUint32(0, true);
    return this.features;
  }

  /**
   * Sends one frame (copied into the TX ring) and kicks the device. Returns false when
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
   * Sends frames in order with one commit and one kick; stops at the first that does not
   * fit (or is not a valid length). Returns how many were sent.
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
    // One kick for the batch; also when nothing fit (rule 1: a wrap pad may need skipping).
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

  /** Adds a link listener (called on every LINK_UP / LINK_DOWN). Starts the async loop. */
  onLink(fn: LinkListener): () => void {
    this.linkListeners.add(fn);
    this.startLoop();
    return () => { this.linkListeners.delete(fn); };
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
   * Drains the EVENT and RX rings now, calling the listeners. Returns the number of
   * frames delivered (events are not counted). Never blocks, never throws for ring state.
   */
  poll(): number {
    this.pollEvents();
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
        for (const fn of this.frameListeners) fn(u8.subarray(at, at + len), flags);
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

  /**
   * Worker form: waits until the device signals new frames or events (or `timeoutMs`),
   * with the enable / re-check / park protocol. Returns false on timeout.
   */
  waitSync(timeoutMs = 1000): boolean {
    return this.rx.dataWaiter.parkSync(() => this.rx.ring.used() > 0 || this.events.ring.used() > 0, timeoutMs) !== 'timed-out';
  }

  /** Stops the receive loop and closes the connection. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.rx.dataWaiter.wake(); // so the receive loop sees `closed`
    try { this.conn.close(); } catch { /* the device is gone already */ }
  }

  /** True once closed. */
  get isClosed(): boolean { return this.closed; }

  private pollEvents(): void {
    const ring = this.events.ring;
    for (;;) {
      const len = ring.pop(this.evScratch);
      if (len < 0) {
        if (len === Status.NOSPACE) { ring.skip(1); continue; } // not an event record: skip it
        return;
      }
      if (len < 8) continue;
      const code = this.evView.getUint32(EVENT_OFF_CODE, true);
      const arg = this.evView.getUint32(EVENT_OFF_ARG, true);
      if (code === EVENT_LINK_UP || code === EVENT_LINK_DOWN) {
        this.link = code === EVENT_LINK_UP;
        for (const fn of this.linkListeners) fn(this.link);
      } else if (code === EVENT_TX_DONE) {
        this.txCompleted += arg;
      }
    }
  }

  private startLoop(): void {
    if (this.looping || this.closed) return;
    this.looping = true;
    void (async () => {
      await Promise.resolve(); // listeners added in the same tick see the first events too
      await serveAsync(this.rx.dataWaiter, {
        drain: () => this.poll(),
        arrived: () => this.rx.ring.used() > 0 || this.events.ring.used() > 0,
        running: () => !this.closed,
        sliceMs: 250,
      });
      this.looping = false;
    })();
  }
}

/**
 * Opens venet device `deviceId` on the guest's bus: DEVOPEN with the venet version,
 * query, and ring setup. Throws VbusError (ENOENT for a missing device, ENOSPC when
 * the bus memory has no room for the rings, ...).
 */
function callOpts(opts: VenetOptions | undefined): { timeoutMs?: number } {
  return opts?.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {};
}

export function openVenet(guest: GuestConnector, deviceId: number, opts?: VenetOptions): VenetDriver {
  checkInterface(guest, deviceId, VENET_INTERFACE, 'openVenet');
  const conn = guest.open(deviceId, VENET_VERSION, callOpts(opts));
  try {
    return new VenetDriver(conn, opts);
  } catch (e) {
    try { conn.close(); } catch { /* keep the first error */ }
    throw e;
  }
}

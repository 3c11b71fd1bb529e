/**
 * The virtual-console guest driver: a byte stream over the device's two rings (abi.ts).
 *
 *   const con = openConsole(guest, id);
 *   await con.write('hello\n');                 // or con.writeSync(bytes) in a blocking loop
 *   for await (const chunk of con) { ... }      // or con.onData(cb), con.read(), con.readable
 *   con.close();
 *
 * Writes wait for ring space (the device frees it as its endpoint takes the bytes), so
 * a slow endpoint slows the writer instead of losing bytes. Reads pull records only
 * when asked, so a slow reader fills the input ring and the device pauses its endpoint.
 * `readable` / `writable` are the same stream as WHATWG streams (Node 20 and browsers).
 */
import { vbusError } from '../../errors.js';
import { RING_OFF_HEAD } from '../../../assembly/layout/ring.js';
import { Status } from '../../core/status.js';
import type { RingConsumer } from '../../core/ring.js';
import { checkInterface, declareInterfaceVersions, type Connection, type ConnectionStatus } from '../../guest/connection.js';
import type { GuestConnector } from '../../guest/connector.js';
import type { ConsumerEnd, ProducerEnd } from '../../core/queue.js';
import type { ShmRegion } from '../../connector/types.js';
import {
  CONSOLE_INTERFACE, CONSOLE_VERSION, DEFAULT_INPUT_RING, DEFAULT_OUTPUT_RING, QUEUE_INPUT, QUEUE_OUTPUT, TAG_DATA, TAG_EOF,
} from './abi.js';

declareInterfaceVersions(CONSOLE_INTERFACE, [CONSOLE_VERSION]);

/** Options of {@link openConsole}. */
export interface ConsoleOptions {
  /** Output ring capacity in bytes (power of two). */
  outputRing?: number;
  /** Input ring capacity in bytes (power of two). */
  inputRing?: number;
  /** Largest chunk one read returns (records are coalesced up to this). Default 65536. */
  readChunk?: number;
}

/** Re-check period of a blocked read or write, so close() and a gone device are noticed. */
const WAIT_SLICE_MS = 250;
const encoder = new TextEncoder();

/** A guest's open console. */
export class GuestConsole implements AsyncIterable<Uint8Array> {
  /** Largest payload of one output record. */
  readonly maxChunk: number;
  private out: ProducerEnd<ShmRegion>;
  private inp: ConsumerEnd<ShmRegion>;
  private attachedResets = 0;
  private readonly readMax: number;
  private closed = false;
  private ended = false;
  private writeChain: Promise<void> = Promise.resolve();
  private writesInFlight = 0;
  private readChain: Promise<unknown> = Promise.resolve();
  /** Times a write waited for ring space / a read waited for data, and waits that ran out their slice. */
  readonly stats = { writeWaits: 0, readWaits: 0, slices: 0 };
  private rs: ReadableStream<Uint8Array> | undefined;
  private ws: WritableStream<Uint8Array | string> | undefined;

  /** @internal Use {@link openConsole}. */
  constructor(readonly conn: Connection, opts: ConsoleOptions) {
    this.out = conn.txQueue(QUEUE_OUTPUT, opts.outputRing ?? DEFAULT_OUTPUT_RING);
    this.inp = conn.rxQueue(QUEUE_INPUT, opts.inputRing ?? DEFAULT_INPUT_RING);
    // An admin's bus reset re-formatted a faulted connection's rings (DEVRESET): attach again.
    conn.onFault((e) => { if (e.kind === 'reset' && e.resets > this.attachedResets) this.reattach(e.resets); });
    this.maxChunk = this.out.ring.maxPayload;
    this.readMax = opts.readChunk ?? 65536;
    // Across a save of the bus: whether the input had ended (its rings come back as they are).
    this.ended = (conn.resumed as { ended?: unknown } | null)?.ended === true;
    conn.onSave(() => ({ ended: this.ended }));
  }

  /** Output bytes in the ring that the device has not taken yet (a guest quiescing waits for 0). */
  get outputPending(): number { return this.out.ring.used(); }

  /** True once the endpoint ended the input (or after close). */
  get isEnded(): boolean { return this.ended || this.closed; }

  // ----- output -----

  /** Writes `data` (text is UTF-8 encoded); resolves when all of it is in the ring. Writes keep their order. */
  write(data: Uint8Array | string): Promise<void> {
    if (this.closed) return Promise.reject(vbusError('EBADF', `console ${this.conn.deviceId} is closed`));
    const bytes = typeof data === 'string' ? encoder.encode(data) : data.slice(); // the caller may reuse its buffer
    this.writesInFlight++;
    const p = this.writeChain.then(() => this.writeAsync(bytes));
    this.writeChain = p.catch(() => undefined).finally(() => { this.writesInFlight--; });
    return p;
  }

  /**
   * Writes `data`, blocking this worker (Atomics.wait) while the ring is full. Throws
   * EBUSY while asynchronous writes are still queued (their bytes would come after).
   */
  writeSync(data: Uint8Array | string): void {
    this.checkOpen();
    if (this.writesInFlight > 0) throw vbusError('EBUSY', `console ${this.conn.deviceId}: ${this.writesInFlight} asynchronous writes are still queued; await them before writeSync`);
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    let at = 0;
    while (at < bytes.length) {
      const n = this.pushSome(bytes, at);
      if (n > 0) { at += n; continue; }
      this.checkOpen();
      let again = 0; // the re-check pushes: space freed between our FULL and the enable is not missed
      const r = this.out.spaceWaiter.parkSync(() => (again = this.pushSome(bytes, at)) > 0, WAIT_SLICE_MS);
      if (r !== 'ready') this.stats.writeWaits++;
      if (r === 'timed-out') this.stats.slices++;
      at += again;
    }
  }

  private async writeAsync(bytes: Uint8Array): Promise<void> {
    let at = 0;
    while (at < bytes.length) {
      const n = this.pushSome(bytes, at);
      if (n > 0) { at += n; continue; }
      this.checkOpen();
      let again = 0;
      const r = await this.out.spaceWaiter.parkAsync(() => (again = this.pushSome(bytes, at)) > 0, WAIT_SLICE_MS);
      if (r !== 'ready') this.stats.writeWaits++;
      if (r === 'timed-out') this.stats.slices++;
      at += again;
    }
  }

  /**
   * Copies as much of bytes[at..] as fits into records and publishes them with one
   * commit and one kick. Returns bytes pushed (0 when the ring is full).
   */
  private pushSome(bytes: Uint8Array, at: number): number {
    const ring = this.out.ring;
    const u8 = ring.bus.u8;
    let pushed = 0;
    while (at + pushed < bytes.length) {
      const len = Math.min(this.maxChunk, bytes.length - at - pushed);
      const dst = ring.reserve(len, TAG_DATA);
      if (dst < 0) {
        if (dst === Status.FAULT) throw vbusError('EIO', `console ${this.conn.deviceId}: output ring fault (${ring.fault})`);
        break;
      }
      u8.set(bytes.subarray(at + pushed, at + pushed + len), dst);
      pushed += len;
    }
    if (pushed > 0) { ring.commit(); this.out.notifyData(); } // payload before the tail, tail before the kick
    else this.out.notifyData(); // full: make sure the device is draining
    return pushed;
  }

  /** A WHATWG WritableStream over {@link write}. */
  get writable(): WritableStream<Uint8Array | string> {
    this.ws ??= new WritableStream<Uint8Array | string>({ write: (chunk) => this.write(chunk) });
    return this.ws;
  }

  // ----- input -----

  /**
   * The next bytes from the endpoint (records coalesced up to `readChunk`), or null at
   * end of stream (the endpoint ended) or after close(). Reads keep their order.
   */
  read(): Promise<Uint8Array | null> {
    const p = this.readChain.then(() => this.readNow());
    this.readChain = p.catch(() => undefined);
    return p;
  }

  private async readNow(): Promise<Uint8Array | null> {
    for (;;) {
      let got = this.tryRead();
      if (got !== undefined) return got;
      // The re-check reads: data published before the enable is seen.
      const r = await this.inp.dataWaiter.parkAsync(() => (got = this.tryRead()) !== undefined, WAIT_SLICE_MS);
      if (r === 'ready') return got!;
      this.stats.readWaits++;
      if (r === 'timed-out') this.stats.slices++;
    }
  }

  /** A chunk, null at the end, or undefined when nothing is there yet. */
  private tryRead(): Uint8Array | null | undefined {
    if (this.closed || this.ended) return null;
    const ring = this.inp.ring;
    const u8 = ring.bus.u8;
    const parts: Uint8Array[] = [];
    let total = 0;
    let sawEof = false;
    const headBefore = headOf(ring);
    while (total < this.readMax) {
      const len = ring.peek();
      if (len < 0) {
        if (len === Status.FAULT) throw vbusError('EIO', `console ${this.conn.deviceId}: input ring fault (${ring.fault})`);
        break;
      }
      if (ring.tag === TAG_EOF) { sawEof = true; break; }
      if (ring.tag !== TAG_DATA || len === 0) continue; // not ours to interpret: skipped
      parts.push(u8.slice(ring.peekOffset, ring.peekOffset + len)); // copy before release
      total += len;
    }
    if (parts.length === 0 && !sawEof) {
      ring.release(); // skipped records, if any
      // A peek that found only a wrap pad released it itself: the device may be waiting
      // for exactly that space, so tell it whenever HEAD moved.
      if (headOf(ring) !== headBefore) this.inp.notifySpace();
      return undefined;
    }
    ring.release();
    this.inp.notifySpace(); // space freed: wakes a device that paused its endpoint
    if (sawEof) this.ended = true; // the next read returns null
    return parts.length === 0 ? null : join(parts, total);
  }

  /** Calls `fn` with every chunk until end of stream or close; `onEnd` after. Returns a promise for the end. */
  onData(fn: (chunk: Uint8Array) => void, onEnd?: () => void): Promise<void> {
    const loop = async (): Promise<void> => {
      for (;;) {
        const c = await this.read();
        if (c === null) break;
        fn(c);
      }
      onEnd?.();
    };
    return loop();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      const c = await this.read();
      if (c === null) return;
      yield c;
    }
  }

  /** A WHATWG ReadableStream over {@link read} (pulls only when its reader asks). */
  get readable(): ReadableStream<Uint8Array> {
    this.rs ??= new ReadableStream<Uint8Array>({
      pull: async (ctrl) => {
        const c = await this.read();
        if (c === null) ctrl.close(); else ctrl.enqueue(c);
      },
    }, { highWaterMark: 0 });
    return this.rs;
  }

  // ----- lifetime -----

  /** Closes the console (DEVCLOSE). Pending reads resolve with null. Idempotent. */
  /** True when the host said this connection needs a reset. */
  get needsReset(): boolean { return this.conn.needsReset; }

  /** The host's view of this connection now (a call). */
  status(): ConnectionStatus { return this.conn.status(); }

  /**
   * Resets the console's rings: bytes in them at the time are lost (the device keeps
   * input it has not put on the ring yet); reads and writes go on afterwards.
   */
  reset(): void {
    if (this.closed) throw vbusError('EBADF', 'console: reset after close');
    this.reattach(this.conn.reset());
  }

  private reattach(resets: number): void {
    this.attachedResets = resets;
    this.out = this.out.renew();
    this.inp = this.inp.renew();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.inp.dataWaiter.wake(); // a parked reader sees the close
    this.conn.close();
  }

  private checkOpen(): void {
    if (this.closed) throw vbusError('EBADF', `console ${this.conn.deviceId} is closed`);
    if (!this.conn.isOpen) throw vbusError('ENODEV', `console ${this.conn.deviceId} is gone`);
  }
}

/** The consumer's published index (HEAD) of a ring. */
function headOf(ring: RingConsumer): number {
  return Atomics.load(ring.bus.u32, (ring.offset + RING_OFF_HEAD) >> 2); // acquire-free read of our own index
}

function join(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const all = new Uint8Array(total);
  let at = 0;
  for (const p of parts) { all.set(p, at); at += p.length; }
  return all;
}

/**
 * Opens console device `id` on the guest's bus and sets up its rings. Throws ENODEV if
 * the device is not a virtual-console, or what DEVOPEN / DEVSHM failed with (EBUSY if
 * another guest has it open).
 */
export function openConsole(guest: GuestConnector, id: number, opts: ConsoleOptions = {}): GuestConsole {
  checkInterface(guest, id, CONSOLE_INTERFACE, 'openConsole');
  const conn = guest.open(id, CONSOLE_VERSION);
  try {
    return new GuestConsole(conn, opts);
  } catch (e) {
    conn.close();
    throw e;
  }
}

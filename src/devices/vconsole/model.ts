/**
 * The virtual-console device model: moves bytes between a guest's two rings (abi.ts)
 * and a host endpoint (endpoint.ts), with flow control both ways and nothing lost.
 *
 * Output (guest -> endpoint): poll() drains the output ring, copying each record before
 * use, and hands the copies to the endpoint. When the endpoint says it buffers too
 * much, draining stops and the records stay in the ring, so the guest's writes wait for
 * space; the endpoint's drained() resumes.
 *
 * Input (endpoint -> guest): chunks are queued, then copied into the input ring in
 * records of at most maxChunk bytes. When the ring is full, the endpoint is paused;
 * the guest's space signal calls poll(), which copies the rest and resumes it.
 *
 * One guest connection at a time (a second DEVOPEN gets EBUSY): a console has one
 * reader. Input that arrives while no guest is connected waits for the next one.
 * Host-thread placement only: endpoints are event-loop objects (streams, sockets).
 */
import { RING_OFF_HEAD } from '../../../assembly/layout/ring.js';
import { vbusError } from '../../errors.js';
import { macrotask } from '../../core/macrotask.js';
import type { DeviceConnection, ShmRegion } from '../../connector/types.js';
import type { ConsumerEnd, ProducerEnd } from '../../core/queue.js';
import { deviceConsumer, deviceProducer, SHM_RING_TO_DEVICE, SHM_RING_TO_GUEST } from '../../connector/device-queues.js';
import type { DeviceModel } from '../../host/device-model.js';
import {
  CONSOLE_VERSION, DEVICE_MAX_CHUNK, FUNC_INFO, INFO_BYTES, INFO_OFF_MAX_CHUNK, INFO_OFF_VERSION,
  QUEUE_INPUT, QUEUE_OUTPUT, TAG_DATA, TAG_EOF,
} from './abi.js';
import { checkEndpointSpec, openEndpoint, type ConsoleEndpoint, type EndpointSink } from './endpoint.js';
import { ConsoleMemoryEndpoint } from './memory-endpoint.js';

const ENOSYS = 38;
const EINVAL = 22;

/** Counters of one console device. */
export interface ConsoleCounters {
  /** Bytes delivered to the guest (endpoint -> guest). */
  rxBytes: number;
  /** Bytes the guest wrote and the device handed to the endpoint (guest -> endpoint). */
  txBytes: number;
  /** Records refused (bad tag, empty), output discarded by a failed endpoint, ring faults. */
  drops: number;
}

export class ConsoleModel implements DeviceModel {
  readonly counters: ConsoleCounters = { rxBytes: 0, txBytes: 0, drops: 0 };
  private ep: ConsoleEndpoint | null = null;
  private epState = 'closed';
  private conn: DeviceConnection | null = null;
  private outRing: ConsumerEnd | null = null;
  private inRing: ProducerEnd | null = null;
  /** Input waiting for room in the guest's ring; `pendingAt` is the offset into the first chunk. */
  private readonly pending: Uint8Array[] = [];
  private pendingAt = 0;
  private eofPending = false;
  private paused = false;
  private outBlocked = false;
  private failed = false;
  private flushing = false;
  private draining = false;
  private recheck = false;
  private readonly sink: EndpointSink;

  constructor(endpoint = 'memory') {
    // The endpoint calls in through methods, so a recorder can see each call (recordEntries).
    this.sink = {
      input: (chunk) => this.fromEndpoint(chunk),
      inputEnd: () => this.endpointEnded(),
      drained: () => this.endpointDrained(),
      failed: (err) => this.endpointFailed(err),
    };
    this.switchEndpoint(checkEndpointSpec(endpoint));
  }

  /**
   * For src/record: the endpoint is the world outside the bus. What it delivers enters
   * through the entries; what the console asks of it goes through the sources.
   */
  readonly recordEntries = ['fromEndpoint', 'endpointEnded', 'endpointDrained', 'endpointFailed', 'recheckNow'] as const;
  readonly recordSources = ['toEndpoint', 'pauseEndpoint', 'resumeEndpoint'] as const;

  /** Bytes arrived from the endpoint. */
  fromEndpoint(chunk: Uint8Array): void {
    if (chunk.length > 0) { this.pending.push(chunk); this.flushInput(); }
  }
  /** The endpoint's input ended. */
  endpointEnded(): void { this.eofPending = true; this.flushInput(); }
  /** The endpoint takes output again. */
  endpointDrained(): void { this.outBlocked = false; this.drainOutput(); }
  /** The endpoint failed. */
  endpointFailed(err: Error): void {
    this.failed = true;
    this.epState = `error: ${err.message}`;
    this.outBlocked = false;
    if (!this.draining) this.drainOutput(); // discards (counted) so the guest's writes do not hang
  }
  /** Hands guest output to the endpoint; false when it buffers too much. */
  toEndpoint(chunk: Uint8Array): boolean { return this.ep!.write(chunk); }
  pauseEndpoint(): void { this.ep?.pause(); }
  resumeEndpoint(): void { this.ep?.resume(); }

  /** The endpoint now in use (its attribute value). */
  get endpoint(): string { return this.ep?.spec ?? 'none'; }

  /** `open`, `error: ...` or `closed`. */
  get state(): string { return this.epState; }

  /** Input bytes waiting for room in the guest's ring (or for a guest). */
  get pendingInput(): number {
    let n = 0 - this.pendingAt; // not -pendingAt: that is -0 when empty
    for (const c of this.pending) n += c.length;
    return n;
  }

  // ----- the typed host API of the memory endpoint -----

  /** Queues bytes for the guest to read; resolves when the device has taken them. Memory endpoint only. */
  hostWrite(bytes: Uint8Array | string): Promise<void> {
    const b = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
    return this.memory('hostWrite').writeInput(b);
  }

  /** Ends the host input: the guest's reader sees end-of-stream after what was written. Memory endpoint only. */
  hostEnd(): void { this.memory('hostEnd').endInput(); }

  /** Takes all guest output buffered so far. Memory endpoint only. */
  hostRead(): Uint8Array { return this.memory('hostRead').read(); }

  /** Receives guest output as it arrives (instead of hostRead). Memory endpoint only. Returns an unsubscribe function. */
  onOutput(fn: (bytes: Uint8Array) => void): () => void { return this.memory('onOutput').onOutput(fn); }

  private memory(what: string): ConsoleMemoryEndpoint {
    if (!(this.ep instanceof ConsoleMemoryEndpoint)) {
      throw vbusError('ENOTSUP', `${what}: the console's endpoint is "${this.endpoint}", not memory`, { endpoint: this.endpoint });
    }
    return this.ep;
  }

  // ----- saved state (src/devices/vconsole/state.ts) -----

  /**
   * What the console holds for later: input the guest has not read (in its ring, then
   * the model's queue, then a memory endpoint's), whether end-of-input follows it, a
   * memory endpoint's unread guest output, and how many of the input bytes were in the
   * ring (counted in rx_bytes already). Call it with the guest quiet.
   */
  heldBytes(): { input: Uint8Array[]; inputEnd: boolean; output: Uint8Array | null } {
    // Oldest first: the model's queue, then the endpoint's. What sits in the guest's input
    // ring stays there: the bus memory image of a save carries the ring as it is.
    const input = this.pending.map((c, i) => (i === 0 ? c.slice(this.pendingAt) : c.slice()));
    let inputEnd = this.eofPending;
    let output: Uint8Array | null = null;
    if (this.ep instanceof ConsoleMemoryEndpoint) {
      const p = this.ep.peek();
      input.push(...p.input.map((b) => b.slice()));
      inputEnd ||= p.inputEnd;
      output = p.output;
    }
    return { input: input.filter((b) => b.length > 0), inputEnd, output };
  }

  /** Replaces what the console holds by what {@link heldBytes} returned (an unconnected console). */
  restoreHeld(input: Uint8Array[], inputEnd: boolean, output: Uint8Array | null): void {
    this.pending.length = 0;
    this.pending.push(...input);
    this.pendingAt = 0;
    this.eofPending = inputEnd;
    if (this.ep instanceof ConsoleMemoryEndpoint) this.ep.replace(output ?? new Uint8Array(0));
    else if (output && output.length > 0 && this.ep) this.ep.write(output);
    if (this.pending.length > 0 && this.ep && !this.paused) { this.paused = true; this.ep.pause(); }
  }

  // ----- connector hooks -----

  open(conn: DeviceConnection): void {
    if (this.conn?.open) {
      throw vbusError('EBUSY', `console already open by member ${this.conn.memberId} on bus ${this.conn.busName}`, { busName: conn.busName });
    }
    if (conn.version !== CONSOLE_VERSION) {
      throw vbusError('ENOTSUP', `console interface version ${conn.version} is not supported (only ${CONSOLE_VERSION})`, { version: conn.version });
    }
    this.conn = conn;
    this.outRing = null;
    this.inRing = null;
  }

  shm(conn: DeviceConnection, region: ShmRegion): void {
    if (conn !== this.conn) throw vbusError('EBADF', 'not the console\'s open connection');
    if (region.queue === QUEUE_OUTPUT && region.kind === SHM_RING_TO_DEVICE && !this.outRing) {
      this.outRing = deviceConsumer(conn.memory, region);
    } else if (region.queue === QUEUE_INPUT && region.kind === SHM_RING_TO_GUEST && !this.inRing) {
      this.inRing = deviceProducer(conn.memory, region);
      this.flushInput(); // input that waited for a guest
    } else {
      throw vbusError('EINVAL', `console queue ${region.queue} of kind ${region.kind} is not part of the ABI (or set up twice)`, { queue: region.queue, kind: region.kind });
    }
  }

  call(conn: DeviceConnection, func: number, _payload: Uint8Array, out: Uint8Array): number {
    if (func !== FUNC_INFO) return -ENOSYS;
    if (out.length < INFO_BYTES) return -EINVAL;
    const dv = new DataView(out.buffer, out.byteOffset, INFO_BYTES);
    dv.setUint32(INFO_OFF_VERSION, CONSOLE_VERSION, true);
    dv.setUint32(INFO_OFF_MAX_CHUNK, this.maxChunk(conn === this.conn ? this.inRing : null), true);
    return INFO_BYTES;
  }

  poll(conn: DeviceConnection): number {
    if (conn !== this.conn) return 0;
    const n = this.drainOutput() + this.flushInput();
    this.recheckLater();
    return n;
  }

  close(conn: DeviceConnection): void {
    if (conn !== this.conn) return;
    // The rings are freed after this hook: hand what the guest wrote to the endpoint
    // now, past its back-pressure (it buffers), so a write-then-close loses nothing.
    this.drainOutput(true);
    this.conn = null;
    this.outRing = null;
    this.inRing = null;
  }

  attrChanged(name: string, value: string): void {
    if (name === 'endpoint') this.switchEndpoint(value);
  }

  release(): void {
    this.ep?.close();
    this.ep = null;
    this.epState = 'closed';
  }

  // ----- data path -----

  private maxChunk(ring: ProducerEnd | null): number {
    return ring ? Math.min(DEVICE_MAX_CHUNK, ring.ring.maxPayload) : DEVICE_MAX_CHUNK;
  }

  /** Guest output -> endpoint. Returns records handled. `force`: ignore the endpoint's back-pressure. */
  private drainOutput(force = false): number {
    const q = this.outRing;
    if (!q || (this.outBlocked && !force) || this.draining) return 0;
    this.draining = true;
    const ring = q.ring;
    const u8 = q.ring.bus.u8;
    const headIdx = (ring.offset + RING_OFF_HEAD) >> 2;
    const headBefore = Atomics.load(ring.bus.u32, headIdx); // our own index: plain snapshot
    let n = 0;
    for (;;) {
      const len = ring.peek();
      if (len < 0) {
        if (ring.faulted) { this.counters.drops++; this.outRing = null; this.epState = `error: output ring fault (${ring.fault})`; }
        break;
      }
      n++;
      if (ring.tag !== TAG_DATA || len === 0) { this.counters.drops++; continue; }
      if (this.failed || !this.ep) { this.counters.drops++; continue; }
      const chunk = u8.slice(ring.peekOffset, ring.peekOffset + len); // copy: the guest can still write the record
      this.counters.txBytes += len;
      let more = true;
      try { more = this.toEndpoint(chunk); } catch (e) { this.sink.failed(e as Error); }
      if (!more) { this.outBlocked = true; if (!force) break; }
    }
    if (n > 0 && this.outRing) ring.release();
    // Also when nothing was taken: a peek that met only a wrap pad released it itself, and
    // the guest may be waiting for exactly that space.
    if (Atomics.load(ring.bus.u32, headIdx) !== headBefore) q.notifySpace();
    this.draining = false;
    return n;
  }

  /** Queued input -> guest's ring. Returns records written. */
  private flushInput(): number {
    if (this.flushing) return 0; // an endpoint's resume() may deliver synchronously: the outer call continues
    const q = this.inRing;
    let n = 0;
    if (q) {
      this.flushing = true;
      const ring = q.ring;
      const max = this.maxChunk(q);
      while (this.pending.length > 0) {
        const c = this.pending[0]!;
        const len = Math.min(max, c.length - this.pendingAt);
        const at = ring.reserve(len, TAG_DATA);
        if (at < 0) {
          if (ring.faulted) { this.counters.drops++; this.inRing = null; this.epState = `error: input ring fault (${ring.fault})`; }
          else q.notifyData(); // FULL may have published a wrap pad alone: the guest must consume it
          break;
        }
        ring.bus.u8.set(c.subarray(this.pendingAt, this.pendingAt + len), at);
        this.counters.rxBytes += len;
        n++;
        this.pendingAt += len;
        if (this.pendingAt === c.length) { this.pending.shift(); this.pendingAt = 0; }
      }
      if (this.pending.length === 0 && this.eofPending && this.inRing) {
        if (ring.reserve(0, TAG_EOF) >= 0) { this.eofPending = false; n++; }
        else if (!ring.faulted) q.notifyData(); // as above: a wrap pad may be waiting for the guest
      }
      if (n > 0) { ring.commit(); q.notifyData(); }
      this.flushing = false;
    }
    if (this.pending.length > 0) {
      if (!this.paused) { this.paused = true; this.pauseEndpoint(); }
    } else if (this.paused) {
      this.paused = false;
      this.resumeEndpoint(); // may call input() again: flushInput runs anew
    }
    return n;
  }

  /**
   * The runtime polls from one watcher per ring, each with its signal disabled while it
   * polls, and re-checks after re-enabling only when it got work from a guest-to-device
   * ring. Both of this model's rings are handled by every poll, so a guest's signal can
   * land on a watcher that is busy with the other ring (its notification disabled) and
   * be dropped: the guest drained the input ring, or wrote output that this poll had
   * already missed. One re-check after the watchers re-enabled (a macrotask later)
   * covers both; it does not re-arm itself.
   */
  private recheckLater(): void {
    if (this.recheck) return;
    this.recheck = true;
    void macrotask().then(() => this.recheckNow());
  }

  /** The re-check {@link recheckLater} arranged. */
  recheckNow(): void {
    this.recheck = false;
    if (!this.conn) return;
    this.drainOutput();
    this.flushInput();
  }

  private switchEndpoint(spec: string): void {
    const old = this.ep;
    this.ep = null;
    old?.close();
    this.failed = false;
    this.outBlocked = false;
    this.paused = false;
    this.eofPending = false;
    try {
      this.ep = openEndpoint(spec, this.sink, () => new ConsoleMemoryEndpoint(this.sink));
      this.epState = 'open';
    } catch (e) {
      this.failed = true;
      this.epState = `error: ${(e as Error).message}`;
    }
    if (this.pending.length > 0 && this.ep) { this.paused = true; this.ep.pause(); }
    this.drainOutput();
  }
}

/** The factory the class (and a test) uses: a console model for `endpoint` (default memory). */
export function createConsoleModel(init?: { endpoint?: string }): ConsoleModel {
  return new ConsoleModel(init?.endpoint ?? 'memory');
}

/**
 * The virtual-block guest driver: `openVdisk(guest, id)` in a guest worker.
 *
 * It keeps many requests in flight: each read/write is split into segments of at most
 * `maxSegment` bytes; each segment takes a request id (slot index + generation, so a
 * stale or forged completion is recognised and ignored) and a block-aligned range of the
 * shared data buffer (ExtentAllocator). Requests made in one turn of the event loop are
 * committed together and the device is woken once (a microtask does the commit). A
 * completion dispatcher drains the completion ring whenever its signal fires, in any
 * order, copies read data out, frees the slot and buffer, starts waiting segments and
 * settles operations whose last segment completed.
 *
 * The synchronous forms (readSync, writeSync, flushSync) are for workers: they commit at
 * once and block in Atomics.wait on the completion ring's data signal, draining
 * completions of other (async) operations on the way.
 *
 * Multiqueue: `openVdisk(guest, id, { queues: N })` negotiates up to N queue pairs (the
 * admin's `queues` caps it; {@link VdiskDriver.queues} says how many were granted) and
 * sets them all up. The driver drives pair 0; `queueHandle(p)` describes pair p as plain
 * data for a child guest (`guest.spawnChild(url, handle)`), which drives it with
 * {@link attachVdiskQueue}: one thread per pair, no lock (each pair has its own rings,
 * signals, request ids and data buffer). The pairs live as long as the parent's
 * connection: close the children's drivers first.
 *
 * Argument checks are local only for what cannot be put on the wire (non-integers,
 * negatives); alignment and range are the device's to judge, so a misaligned or
 * out-of-range request comes back from the device as EINVAL.
 */
import { ERRNO, STRERROR, VbusError, errnoName, vbusError } from '../../errors.js';
import type { GuestConnector } from '../../guest/connector.js';
import { ConsumerEnd, ProducerEnd } from '../../core/queue.js';
import { SHM_BUFFER, SHM_RING_TO_DEVICE, SHM_RING_TO_GUEST } from '../../../assembly/layout/callslot.js';
import { checkInterface, declareInterfaceVersions, type Connection, type ConnectionFaultEvent, type ConnectionStatus } from '../../guest/connection.js';
import type { ShmRegion } from '../../connector/types.js';
import type { SpinPolicy } from '../../core/adaptive-spin.js';
import { ringRecordBytes } from '../../core/ring.js';
import { readSignalStats } from '../../core/signal.js';
import { serveAsync, serveSync } from '../../core/serve-loop.js';
import { Status } from '../../core/status.js';
import { coreCount } from '../../platform/index.js';
import {
  VDISK_INTERFACE, VDISK_VERSION, VDISK_FN_INFO, VDISK_Q_REQUEST, VDISK_Q_COMPLETE, VDISK_Q_DATA, VDISK_MAX_BYTES,
  VDISK_FN_NEGOTIATE, VDISK_NEGOTIATE_BYTES, VDISK_NEG_OFF_FEATURES, VDISK_NEG_OFF_QUEUES, VDISK_F_MQ, VDISK_MAX_QUEUES, VDISK_QUEUES_PER_PAIR, vdiskQueue,
  INFO_BYTES, INFO_OFF_BLOCK, INFO_OFF_CAP_LO, INFO_OFF_CAP_HI, INFO_OFF_FLAGS, INFO_F_READONLY, INFO_F_FLUSH,
  REQ_BYTES, REQ_OFF_OP, REQ_OFF_ID, REQ_OFF_LEN, REQ_OFF_BUF, REQ_OFF_OFF_LO, REQ_OFF_OFF_HI, REQ_OFF_FLAGS, REQ_OFF_RESERVED,
  CPL_BYTES, CPL_OFF_ID, CPL_OFF_STATUS,
  VDISK_OP_READ, VDISK_OP_WRITE, VDISK_OP_FLUSH, VDISK_OP_BARRIER,
} from './abi.js';
import { ExtentAllocator } from './allocator.js';

declareInterfaceVersions(VDISK_INTERFACE, [VDISK_VERSION]);

/** Options of {@link openVdisk}. */
export interface VdiskOptions {
  /** Requests in flight at most (1..4096; default 64). Rings are sized for it. */
  queueDepth?: number;
  /** Bytes of the shared data buffer (a multiple of the block size; default 2 MiB). */
  bufferBytes?: number;
  /** Largest request (default min(1 MiB, bufferBytes / 2), rounded down to blocks). */
  maxSegment?: number;
  /** Deadline of a synchronous operation, ms (default 30000): ETIMEDOUT after it. */
  timeoutMs?: number;
  /** Spin policy of the completion waiter (default {@link completionSpin} of the pairs granted). */
  spin?: SpinPolicy;
  /**
   * Queue pairs to ask for (1..64, default 1): more than 1 negotiates VDISK_F_MQ; the
   * device grants at most its `queues` attribute. Each pair gets its own rings and a data
   * buffer of `bufferBytes`.
   */
  queues?: number;
}

/** One queue pair of an open vdisk as plain data, for a child guest on the same bus ({@link attachVdiskQueue}). */
export interface VdiskQueueHandle {
  readonly kind: 'vdisk-queue';
  readonly bus: string;
  readonly deviceId: number;
  readonly pair: number;
  readonly queues: number;
  readonly req: ShmRegion;
  readonly cpl: ShmRegion;
  readonly data: ShmRegion;
  readonly capacity: number;
  readonly blockSize: number;
  readonly flags: number;
  readonly queueDepth: number;
  readonly maxSegment: number;
  readonly timeoutMs: number;
}

/** Counters of one driver instance. */
export interface VdiskDriverStats {
  /** Requests put on the ring. */
  submitted: number;
  /** Completions matched to a request. */
  completed: number;
  /** Completions with an unknown or stale id (ignored). */
  spurious: number;
  /** Times the device was woken (kicks that were not suppressed). */
  kicks: number;
  /** Times the device woke this driver for completions (raised, not suppressed, signals). */
  notifications: number;
}

/**
 * The completion waiter spins a fixed ~15 us (50,000 polls of sig_spin, measured at
 * ~0.3 ns each here) before it parks. A 4 KiB request on the page cache comes back in a
 * few microseconds, so this catches it without a 35-70 us wake-up. An adaptive budget
 * does not work for this pattern: at queue depth 1 each side's misses shrink it while
 * the other side is parked, both reach 0, and a probe can then never succeed (measured:
 * 15 k IOPS adaptive, 360 k fixed, QD1 with the device in a backend).
 */
export const DEFAULT_COMPLETION_SPIN: SpinPolicy = { fixed: 50_000 };

/** The completion waiter's policy when it must not spin at all (see {@link completionSpin}). */
export const NO_COMPLETION_SPIN: SpinPolicy = { fixed: 0 };

/**
 * The completion waiter's policy for a driver whose device has `queues` pairs in use:
 * {@link DEFAULT_COMPLETION_SPIN} while every pair's thread and the device's thread can
 * each have a core (queues + 1 <= cores), else none. With more such threads than cores
 * a spinning waiter holds a core that the device (or a sibling pair, whose completions
 * come from the same device) needs in order to produce the very completion it waits
 * for: the spin delays its own event. The spin gate does not prevent that (it allows
 * cores - 1 spinners; on 2 cores, one spinner already takes half the machine from the
 * five threads of a 4-pair disk), so such a waiter parks at once; one wake-up per batch
 * of completions then costs less than the spins did (measured with 4 pairs on 2 cores).
 * One queue on 2 cores keeps the spin: one guest thread and the device fit.
 */
export function completionSpin(queues: number): SpinPolicy {
  return queues + 1 <= coreCount() ? DEFAULT_COMPLETION_SPIN : NO_COMPLETION_SPIN;
}

const IDX_BITS = 12;
const IDX_MASK = (1 << IDX_BITS) - 1;
const GEN_MASK = (1 << (32 - IDX_BITS)) - 1;
const MAX_QUEUE_DEPTH = 1 << IDX_BITS;
/** The async dispatcher's safety net: it re-checks the ring at least this often (ms). */
const PUMP_RECHECK_MS = 200;

/** One user operation (read, write, flush, barrier): settles when all its segments did. */
interface Op {
  remaining: number;
  status: number;
  result: Uint8Array | null;
  done: boolean;
  what: string;
  resolve: ((v: Uint8Array | null) => void) | null;
  reject: ((e: Error) => void) | null;
}

/** One device request. `data`: write source or read destination. */
interface Seg {
  op: number;
  off: number;
  len: number;
  units: number;
  data: Uint8Array | null;
  parent: Op;
}

/** An open virtual-block device, from {@link openVdisk}. */
export class VdiskDriver {
  /** Bytes the disk holds. */
  readonly capacity: number;
  /** Bytes per block: offsets and lengths must be multiples of it. */
  readonly blockSize: number;
  /** Writes fail with EROFS. */
  readonly readonly: boolean;
  /** The backing has a volatile cache (a file): flush() does real work. */
  readonly volatileCache: boolean;
  readonly queueDepth: number;
  readonly maxSegment: number;
  /** Queue pairs the connection negotiated (1 without multiqueue). */
  readonly queues: number;
  /** The pair this driver drives (0 for the opener, the handle's pair in a child). */
  readonly pair: number;
  private readonly counts = { submitted: 0, completed: 0, spurious: 0, kicks: 0 };

  private readonly u8: Uint8Array;
  private readonly u32: Uint32Array;
  private readonly i32: Int32Array;
  private readonly dataBase: number;
  private readonly dataBytes: number;
  private alloc: ExtentAllocator;
  /** Resets whose rings this driver attached to. */
  private attachedResets = 0;
  private readonly faultListeners = new Set<(e: ConnectionFaultEvent) => void>();
  private readonly slotSeg: Array<Seg | null>;
  private readonly slotUnit: Int32Array;
  private readonly gen: Uint32Array;
  private readonly freeSlots: number[] = [];
  private waitq: Seg[] = [];
  private waitHead = 0;
  private inflight = 0;
  private uncommitted = 0;
  private commitQueued = false;
  private pumping = false;
  private closed = false;
  private broken: VbusError | null = null;
  private readonly timeoutMs: number;

  /** @internal Use {@link openVdisk}. */
  constructor(
    /** The connection (null in a child that drives a pair of its parent's connection). */
    private readonly conn: Connection | null,
    private req: ProducerEnd<ShmRegion>,
    private cpl: ConsumerEnd<ShmRegion>,
    dataRegion: ShmRegion,
    info: { capacity: number; blockSize: number; flags: number },
    opts: { queueDepth: number; maxSegment: number; timeoutMs: number; pair: number; queues: number; deviceId: number; busName: string },
    /** The other pairs' regions (the opener only), for {@link queueHandle}. */
    private readonly others: ReadonlyArray<readonly [ShmRegion, ShmRegion, ShmRegion]> = [],
  ) {
    const dataOffset = dataRegion.offset, dataBytes = dataRegion.bytes;
    this.pair = opts.pair;
    this.queues = opts.queues;
    this.deviceId = opts.deviceId;
    this.busName = opts.busName;
    const bus = req.ring.bus;
    this.u8 = bus.u8;
    this.u32 = bus.u32;
    this.i32 = bus.i32;
    this.capacity = info.capacity;
    this.blockSize = info.blockSize;
    this.readonly = (info.flags & INFO_F_READONLY) !== 0;
    this.volatileCache = (info.flags & INFO_F_FLUSH) !== 0;
    this.queueDepth = opts.queueDepth;
    this.maxSegment = opts.maxSegment;
    this.timeoutMs = opts.timeoutMs;
    this.dataBase = dataOffset;
    this.dataBytes = dataBytes;
    this.alloc = new ExtentAllocator(Math.floor(dataBytes / info.blockSize));
    this.slotSeg = new Array<Seg | null>(opts.queueDepth).fill(null);
    this.slotUnit = new Int32Array(opts.queueDepth);
    this.gen = new Uint32Array(opts.queueDepth);
    for (let i = opts.queueDepth - 1; i >= 0; i--) this.freeSlots.push(i);
    // The host found this connection faulted (DEVFAULT): fail what is in flight now, as a
    // corrupt ring would; an admin's bus reset (DEVRESET) re-formatted the rings: attach again.
    // (The events come to the opener: a child's pair learns of a fault from its rings.)
    conn?.onFault((e) => {
      // With several pairs, a fault of another pair's ring is that pair's (its thread sees
      // its own rings fault); this driver stops for its own pair's rings or, with one pair, any.
      const mine = this.queues === 1 || (e.queue !== null && Math.floor(e.queue / VDISK_QUEUES_PER_PAIR) === this.pair);
      if (e.kind === 'fault' && mine) this.breakDown(`the host found the connection faulted: ${e.text}`);
      else if (e.resets > this.attachedResets && !this.closed) this.reattach(e.resets);
      for (const fn of this.faultListeners) fn(e);
    });
  }

  /** The connection, for what only its opener can do (ENOTSUP in a child driving one pair). */
  private own(what: string): Connection {
    if (this.conn) return this.conn;
    throw vbusError('ENOTSUP', `vdisk ${this.deviceId}: ${what} goes through the guest that opened the device (this thread drives its queue pair ${this.pair})`, { pair: this.pair });
  }

  /** True when the host said this connection needs a reset (see {@link reset}). */
  get needsReset(): boolean { return this.conn?.needsReset ?? false; }

  /** The host's view of this connection now (asks it: a call). */
  status(): ConnectionStatus { return this.own('status').status({ timeoutMs: this.timeoutMs }); }

  /** Listens for this device's 'fault' and 'reset' events. Returns an unsubscribe function. */
  onFault(fn: (e: ConnectionFaultEvent) => void): () => void {
    this.faultListeners.add(fn);
    return () => { this.faultListeners.delete(fn); };
  }

  /**
   * Resets the device's rings (virtio's device reset, for this connection): operations
   * in flight fail with ECONNRESET (a write among them may or may not have reached the
   * disk), the host re-formats the rings, the device starts the connection afresh and
   * this driver attaches new ends; later operations work as before. Throws VbusError if
   * the call fails (ENODEV once unplugged).
   */
  reset(): void {
    if (this.closed) throw vbusError('ECANCELED', 'vdisk: reset after close');
    this.failAll(vbusError('ECONNRESET', 'vdisk: the device was reset with this operation in flight'));
    this.reattach(this.own('reset').reset({ timeoutMs: this.timeoutMs }));
  }

  /** New ring ends and a clean request table after the host re-formatted the rings. */
  private reattach(resets: number): void {
    this.attachedResets = resets;
    if (this.inflight > 0 || this.waitHead < this.waitq.length) {
      this.failAll(vbusError('ECONNRESET', 'vdisk: the device was reset with this operation in flight'));
    }
    this.req = this.req.renew();
    this.cpl = this.cpl.renew();
    // Nothing is in flight any more: the device forgot the old requests with their buffers.
    this.alloc = new ExtentAllocator(Math.floor(this.dataBytes / this.blockSize));
    this.freeSlots.length = 0;
    for (let i = this.queueDepth - 1; i >= 0; i--) { this.slotSeg[i] = null; this.freeSlots.push(i); }
    this.inflight = 0;
    this.uncommitted = 0;
    this.broken = null;
  }

  /** Device id on the bus. */
  readonly deviceId: number;
  private readonly busName: string;

  /**
   * Queue pair `pair` (1 .. queues-1) as plain data for a child guest on this bus, which
   * drives it with {@link attachVdiskQueue}. Each pair must have one driver at a time.
   */
  queueHandle(pair: number): VdiskQueueHandle {
    const r = this.others[pair - 1];
    if (this.pair !== 0 || !Number.isInteger(pair) || !r) {
      throw vbusError('EINVAL', `vdisk ${this.deviceId}: queue pair ${pair} is not one this driver can hand out (pairs 1..${this.queues - 1} of the opener)`, { pair, queues: this.queues });
    }
    return {
      kind: 'vdisk-queue', bus: this.busName, deviceId: this.deviceId, pair, queues: this.queues,
      req: r[0], cpl: r[1], data: r[2], capacity: this.capacity, blockSize: this.blockSize,
      flags: (this.readonly ? INFO_F_READONLY : 0) | (this.volatileCache ? INFO_F_FLUSH : 0),
      queueDepth: this.queueDepth, maxSegment: this.maxSegment, timeoutMs: this.timeoutMs,
    };
  }

  /** Counters of this driver (a snapshot). */
  get stats(): VdiskDriverStats {
    return { ...this.counts, notifications: readSignalStats(this.req.ring.bus, this.cpl.region.dataSignal).raised };
  }

  /** Requests on the ring or waiting for a slot. */
  get pending(): number { return this.inflight + (this.waitq.length - this.waitHead); }

  // ---- asynchronous API ----

  /** Reads `len` bytes at `offset`. */
  read(offset: number, len: number): Promise<Uint8Array> {
    return this.async((op) => this.submitIo(op, VDISK_OP_READ, offset, len, null), `read ${len} bytes at ${offset}`, len) as Promise<Uint8Array>;
  }

  /** Reads `dst.length` bytes at `offset` into `dst` (no allocation); resolves with `dst`. */
  readInto(offset: number, dst: Uint8Array): Promise<Uint8Array> {
    if (!(dst instanceof Uint8Array)) return Promise.reject(vbusError('EINVAL', 'vdisk readInto: dst must be a Uint8Array'));
    return this.async((op) => this.submitIo(op, VDISK_OP_READ, offset, dst.length, null), `read ${dst.length} bytes at ${offset}`, 0, dst) as Promise<Uint8Array>;
  }

  /** Writes `data` at `offset` (the bytes are taken at call time). */
  write(offset: number, data: Uint8Array): Promise<void> {
    return this.async((op) => this.submitIo(op, VDISK_OP_WRITE, offset, data?.length, data), `write ${data?.length} bytes at ${offset}`, 0) as Promise<unknown> as Promise<void>;
  }

  /** Resolves when every write acknowledged before this call is durable on the backing store. */
  flush(): Promise<void> {
    return this.async((op) => this.submitCtl(op, VDISK_OP_FLUSH), 'flush', 0) as Promise<unknown> as Promise<void>;
  }

  /** Orders: requests made after it start after the ones before it completed. */
  barrier(): Promise<void> {
    return this.async((op) => this.submitCtl(op, VDISK_OP_BARRIER), 'barrier', 0) as Promise<unknown> as Promise<void>;
  }

  // ---- synchronous API (workers only: blocks in Atomics.wait) ----

  readSync(offset: number, len: number): Uint8Array {
    return this.sync((op) => this.submitIo(op, VDISK_OP_READ, offset, len, null), `read ${len} bytes at ${offset}`, len)!;
  }

  readIntoSync(offset: number, dst: Uint8Array): Uint8Array {
    if (!(dst instanceof Uint8Array)) throw vbusError('EINVAL', 'vdisk readIntoSync: dst must be a Uint8Array');
    return this.sync((op) => this.submitIo(op, VDISK_OP_READ, offset, dst.length, null), `read ${dst.length} bytes at ${offset}`, 0, dst)!;
  }

  writeSync(offset: number, data: Uint8Array): void {
    this.sync((op) => this.submitIo(op, VDISK_OP_WRITE, offset, data?.length, data), `write ${data?.length} bytes at ${offset}`, 0);
  }

  flushSync(): void {
    this.sync((op) => this.submitCtl(op, VDISK_OP_FLUSH), 'flush', 0);
  }

  /**
   * Closes the device: operations not yet settled fail with ECANCELED, the connection
   * (and its rings and buffer) is released. Idempotent.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.failAll(vbusError('ECANCELED', 'vdisk: the device was closed with this operation in flight'));
    this.conn?.close(); // a child's pair belongs to its parent's connection
  }

  // ---- operations ----

  /** `len` > 0: a read into a new array of that size; `into`: a read into the caller's array. */
  private newOp(what: string, len: number, into: Uint8Array | null): Op {
    return { remaining: 0, status: 0, result: into ?? (len > 0 ? new Uint8Array(len) : null), done: false, what, resolve: null, reject: null };
  }

  private usable(): void {
    if (this.closed) throw vbusError('ECANCELED', 'vdisk: the device is closed');
    if (this.broken) throw this.broken;
  }

  private async(submit: (op: Op) => void, what: string, len: number, into: Uint8Array | null = null): Promise<Uint8Array | null> {
    let op: Op;
    try {
      this.usable();
      checkLength(len, what);
      op = this.newOp(what, len, into);
      submit(op);
    } catch (e) {
      return Promise.reject(e);
    }
    if (op.done) return op.status < 0 ? Promise.reject(this.error(op)) : Promise.resolve(op.result);
    return new Promise((resolve, reject) => { op.resolve = resolve; op.reject = reject; });
  }

  private sync(submit: (op: Op) => void, what: string, len: number, into: Uint8Array | null = null): Uint8Array | null {
    this.usable();
    checkLength(len, what);
    const op = this.newOp(what, len, into);
    submit(op);
    this.waitFor(op);
    if (op.status < 0) throw this.error(op);
    return op.result;
  }

  private error(op: Op): VbusError {
    if (op.status === -ERRNO.ECANCELED && this.broken) return this.broken;
    const code = errnoName(-op.status);
    return new VbusError(code, `vdisk ${op.what}: ${STRERROR[code]}`, { errno: -op.status });
  }

  private submitIo(op: Op, vop: number, offset: number, len: number, data: Uint8Array | null): void {
    if (vop === VDISK_OP_WRITE && !(data instanceof Uint8Array)) throw vbusError('EINVAL', 'vdisk write: data must be a Uint8Array');
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + len > VDISK_MAX_BYTES) {
      throw vbusError('EINVAL', `vdisk ${op.what}: offset must be a non-negative integer with offset + length below 2^53`, { offset, len });
    }
    if (len === 0) { op.done = true; return; }
    const bs = this.blockSize;
    const target = vop === VDISK_OP_READ ? op.result! : data!;
    const whole = offset % bs === 0 && len % bs === 0 && offset + len <= this.capacity;
    if (!whole) {
      // The device judges it (EINVAL): sent as one request so that no part of it runs.
      if (len > this.maxSegment) {
        throw vbusError('EINVAL', `vdisk ${op.what}: not block-aligned or beyond the capacity ${this.capacity}, and longer than one request (${this.maxSegment})`, { offset, len, blockSize: bs, capacity: this.capacity });
      }
      op.remaining = 1;
      this.enqueue({ op: vop, off: offset, len, units: Math.ceil(len / bs), data: target, parent: op });
      return;
    }
    const step = this.maxSegment;
    op.remaining = Math.ceil(len / step);
    for (let pos = 0; pos < len; pos += step) {
      const n = Math.min(step, len - pos);
      this.enqueue({ op: vop, off: offset + pos, len: n, units: n / bs, data: target.subarray(pos, pos + n), parent: op });
    }
  }

  private submitCtl(op: Op, vop: number): void {
    op.remaining = 1;
    this.enqueue({ op: vop, off: 0, len: 0, units: 0, data: null, parent: op });
  }

  // ---- submission ----

  /** Starts `seg` now, or queues it behind earlier ones (order is kept: a flush never overtakes a write). */
  private enqueue(seg: Seg): void {
    if (this.waitHead === this.waitq.length && this.tryStart(seg)) { this.scheduleCommit(); return; }
    if (seg.op === VDISK_OP_WRITE) seg.data = seg.data!.slice(); // the caller may reuse its array once write() returned
    this.waitq.push(seg); // a segment is never larger than the buffer (maxSegment <= bufferBytes), so it fits once others complete
  }

  /** Takes a slot and buffer range and reserves the descriptor. False if any is missing. */
  private tryStart(seg: Seg): boolean {
    if (this.freeSlots.length === 0) return false;
    let unit = -1, addr = 0;
    if (seg.units > 0) {
      unit = this.alloc.alloc(seg.units);
      if (unit < 0) return false;
      addr = this.dataBase + unit * this.blockSize;
    }
    const at = this.req.ring.reserve(REQ_BYTES);
    if (at < 0) {
      if (unit >= 0) this.alloc.release(unit, seg.units);
      if (at === Status.FAULT) this.breakDown(`request ring: ${this.req.ring.fault}`);
      else this.req.notifyData(); // rule 1 (src/core/ring.ts): FULL may have published a wrap pad only the device can skip
      return false;
    }
    const idx = this.freeSlots.pop()!;
    const g = (this.gen[idx]! + 1) & GEN_MASK;
    this.gen[idx] = g;
    if (seg.op === VDISK_OP_WRITE) this.u8.set(seg.data!, addr);
    const d = at >> 2, u32 = this.u32;
    u32[d + (REQ_OFF_OP >> 2)] = seg.op;
    u32[d + (REQ_OFF_ID >> 2)] = ((g << IDX_BITS) | idx) >>> 0;
    u32[d + (REQ_OFF_LEN >> 2)] = seg.len;
    u32[d + (REQ_OFF_BUF >> 2)] = addr;
    u32[d + (REQ_OFF_OFF_LO >> 2)] = seg.off % 0x1_0000_0000;
    u32[d + (REQ_OFF_OFF_HI >> 2)] = Math.floor(seg.off / 0x1_0000_0000);
    u32[d + (REQ_OFF_FLAGS >> 2)] = 0;
    u32[d + (REQ_OFF_RESERVED >> 2)] = 0;
    this.slotSeg[idx] = seg;
    this.slotUnit[idx] = unit;
    this.inflight++;
    this.uncommitted++;
    this.counts.submitted++;
    return true;
  }

  /** Commits at the end of this turn, so every request made in it shares one wake-up. */
  private scheduleCommit(): void {
    if (this.commitQueued) return;
    this.commitQueued = true;
    queueMicrotask(() => {
      this.commitQueued = false;
      this.commitNow();
      if (this.inflight > 0) this.startPump();
    });
  }

  private commitNow(): void {
    if (this.uncommitted === 0) return;
    this.uncommitted = 0;
    if (this.req.ring.commit() === Status.FAULT) { this.breakDown(`request ring: ${this.req.ring.fault}`); return; }
    if (this.req.notifyData()) this.counts.kicks++;
  }

  // ---- completions ----

  /** Takes every completion on the ring. Returns how many. */
  private drain(): number {
    const ring = this.cpl.ring;
    const u32 = this.u32, i32 = this.i32;
    let n = 0;
    for (;;) {
      const len = ring.peek();
      if (len < 0) {
        if (len === Status.FAULT) this.breakDown(`completion ring: ${ring.fault}`);
        break;
      }
      n++;
      if (len < CPL_BYTES) { this.counts.spurious++; continue; }
      const c = ring.peekOffset >> 2;
      this.complete(u32[c + (CPL_OFF_ID >> 2)]!, i32[c + (CPL_OFF_STATUS >> 2)]!);
    }
    if (n > 0 && ring.release() === Status.FAULT) this.breakDown(`completion ring: ${ring.fault}`);
    // Rule 2 (src/core/ring.ts): completions or a skipped wrap pad freed space.
    if (ring.headMoved()) this.cpl.notifySpace(); // a device waiting to post more completions may go on
    if (n > 0) this.startWaiting();
    return n;
  }

  private complete(id: number, status: number): void {
    const idx = id & IDX_MASK;
    const seg = idx < this.queueDepth ? this.slotSeg[idx] : null;
    if (!seg || this.gen[idx] !== id >>> IDX_BITS) { this.counts.spurious++; return; }
    this.slotSeg[idx] = null;
    this.freeSlots.push(idx);
    this.inflight--;
    this.counts.completed++;
    const unit = this.slotUnit[idx]!;
    if (status === 0 && seg.op === VDISK_OP_READ) {
      const addr = this.dataBase + unit * this.blockSize;
      seg.data!.set(this.u8.subarray(addr, addr + seg.len));
    }
    if (unit >= 0) this.alloc.release(unit, seg.units);
    this.segDone(seg, status);
  }

  private segDone(seg: Seg, status: number): void {
    const op = seg.parent;
    if (status < 0 && op.status === 0) op.status = status;
    if (--op.remaining > 0) return;
    op.done = true;
    if (op.status < 0) op.reject?.(this.error(op));
    else op.resolve?.(op.result);
  }

  /** Starts queued segments in order while slots and buffer last. */
  private startWaiting(): void {
    let started = false;
    while (this.waitHead < this.waitq.length && !this.broken) {
      if (!this.tryStart(this.waitq[this.waitHead]!)) break;
      this.waitq[this.waitHead++] = undefined as unknown as Seg;
      started = true;
    }
    if (this.waitHead === this.waitq.length) { this.waitq = []; this.waitHead = 0; }
    if (started) this.scheduleCommit();
  }

  /**
   * The async dispatcher: runs while requests are in flight, with the disable / drain /
   * enable / re-check protocol of assembly/signal.ts, parking in Atomics.waitAsync.
   */
  private startPump(): void {
    if (this.pumping) return;
    this.pumping = true;
    void this.pump();
  }

  private async pump(): Promise<void> {
    try {
      await serveAsync(this.cpl.dataWaiter, {
        drain: () => this.drain(),
        arrived: () => this.cpl.ring.used() > 0, // arrived while we were enabling
        running: () => this.inflight > 0 && !this.closed && !this.broken,
        sliceMs: PUMP_RECHECK_MS,
      });
    } finally {
      this.pumping = false;
    }
  }

  /** Blocks until `op` settled (sync API), dispatching every completion on the way. */
  private waitFor(op: Op): void {
    const deadline = Date.now() + this.timeoutMs;
    this.commitNow();
    serveSync(this.cpl.dataWaiter, {
      drain: () => {
        this.drain();
        this.commitNow(); // segments started by the drain
        if (!op.done && !this.broken && Date.now() >= deadline) {
          throw vbusError('ETIMEDOUT', `vdisk ${op.what}: no completion within ${this.timeoutMs} ms`, { timeoutMs: this.timeoutMs });
        }
      },
      arrived: () => this.cpl.ring.used() > 0,
      running: () => !op.done && !this.broken,
      sliceMs: () => Math.max(1, Math.min(deadline - Date.now(), 1000)),
    });
    if (!op.done && this.broken) throw this.broken;
    if (this.inflight > 0) this.startPump(); // async operations still in flight keep their dispatcher
  }

  /** A ring is corrupt: every operation fails with EIO; the driver is unusable (close and reopen). */
  private breakDown(why: string): void {
    if (this.broken) return;
    this.broken = vbusError('EIO', `vdisk: ${why}; reset() the driver (or close and reopen the device)`);
    this.failAll(this.broken);
  }

  private failAll(e: VbusError): void {
    const status = -ERRNO[e.code];
    for (let i = 0; i < this.queueDepth; i++) {
      const seg = this.slotSeg[i];
      if (!seg) continue;
      this.slotSeg[i] = null; // its buffer range stays taken: the device may still write it
      this.inflight--;
      this.segDone(seg, status);
    }
    for (let i = this.waitHead; i < this.waitq.length; i++) this.segDone(this.waitq[i]!, status);
    this.waitq = [];
    this.waitHead = 0;
  }
}

function checkLength(len: number, what: string): void {
  if (!Number.isSafeInteger(len) || len < 0) throw vbusError('EINVAL', `vdisk ${what}: length must be a non-negative integer`, { len });
}

function pow2AtLeast(n: number): number {
  let p = 64;
  while (p < n) p *= 2;
  return p;
}

/**
 * Opens virtual-block device `id` on the guest's bus: DEVOPEN, the geometry call, and
 * the request ring, completion ring and data buffer. Throws VbusError (ENODEV, ENOSPC
 * when the bus memory cannot hold the buffer, EINVAL for bad options); nothing stays
 * open on failure.
 */
export function openVdisk(guest: GuestConnector, id: number, opts: VdiskOptions = {}): VdiskDriver {
  const queueDepth = opts.queueDepth ?? 64;
  if (!Number.isInteger(queueDepth) || queueDepth < 1 || queueDepth > MAX_QUEUE_DEPTH) {
    throw vbusError('EINVAL', `vdisk: queueDepth ${queueDepth} must be an integer from 1 to ${MAX_QUEUE_DEPTH}`, { queueDepth });
  }
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const wantQueues = opts.queues ?? 1;
  if (!Number.isInteger(wantQueues) || wantQueues < 1 || wantQueues > VDISK_MAX_QUEUES) {
    throw vbusError('EINVAL', `vdisk: queues ${wantQueues} must be an integer from 1 to ${VDISK_MAX_QUEUES}`, { queues: wantQueues });
  }
  checkInterface(guest, id, VDISK_INTERFACE, 'openVdisk');
  const conn = guest.open(id, VDISK_VERSION, { timeoutMs });
  try {
    // A resumed connection (src/guest/resume.ts): the geometry and the pairs granted were
    // saved with it, and its rings and buffer are taken back as they are.
    const saved = savedVdisk(conn.resumed, wantQueues);
    const reply = saved?.info ?? conn.call(VDISK_FN_INFO, undefined, { timeoutMs });
    if (reply.length < INFO_BYTES) throw vbusError('EPROTO', `vdisk: info reply of ${reply.length} bytes, expected ${INFO_BYTES}`);
    const v = new DataView(reply.buffer, reply.byteOffset, reply.length);
    const blockSize = v.getUint32(INFO_OFF_BLOCK, true);
    const capacity = v.getUint32(INFO_OFF_CAP_HI, true) * 0x1_0000_0000 + v.getUint32(INFO_OFF_CAP_LO, true);
    const flags = v.getUint32(INFO_OFF_FLAGS, true);
    const bufferBytes = opts.bufferBytes ?? 2 << 20;
    if (!Number.isSafeInteger(bufferBytes) || bufferBytes < blockSize || bufferBytes % blockSize !== 0) {
      throw vbusError('EINVAL', `vdisk: bufferBytes ${bufferBytes} must be a positive multiple of the block size ${blockSize}`, { bufferBytes, blockSize });
    }
    let maxSegment = opts.maxSegment ?? Math.min(1 << 20, Math.max(blockSize, bufferBytes / 2));
    maxSegment -= maxSegment % blockSize;
    if (maxSegment < blockSize || maxSegment > bufferBytes) {
      throw vbusError('EINVAL', `vdisk: maxSegment ${opts.maxSegment} must be between the block size ${blockSize} and bufferBytes ${bufferBytes}`, { maxSegment: opts.maxSegment });
    }
    const queues = saved ? saved.queues : wantQueues > 1 ? negotiateQueues(conn, wantQueues, timeoutMs) : 1;
    const info = reply.slice();
    conn.onSave(() => ({ info, queues }));
    // Room for every request in flight plus one record of slack (a record never wraps).
    const reqBytes = pow2AtLeast((queueDepth + 1) * ringRecordBytes(REQ_BYTES));
    const cplBytes = pow2AtLeast((queueDepth + 1) * ringRecordBytes(CPL_BYTES));
    const req = conn.txQueue(VDISK_Q_REQUEST, reqBytes, opts.spin);
    const cpl = conn.rxQueue(VDISK_Q_COMPLETE, cplBytes, opts.spin ?? completionSpin(queues));
    const data = conn.buffer(VDISK_Q_DATA, bufferBytes);
    const others: Array<[ShmRegion, ShmRegion, ShmRegion]> = [];
    for (let p = 1; p < queues; p++) {
      others.push([
        conn.shm(vdiskQueue(p, VDISK_Q_REQUEST), reqBytes, SHM_RING_TO_DEVICE),
        conn.shm(vdiskQueue(p, VDISK_Q_COMPLETE), cplBytes, SHM_RING_TO_GUEST),
        conn.shm(vdiskQueue(p, VDISK_Q_DATA), bufferBytes, SHM_BUFFER),
      ]);
    }
    return new VdiskDriver(conn, req, cpl, data.region, { capacity, blockSize, flags }, { queueDepth, maxSegment, timeoutMs, pair: 0, queues, deviceId: id, busName: guest.busName }, others);
  } catch (e) {
    try { conn.close(); } catch { /* report the first failure, not the cleanup's */ }
    throw e;
  }
}

/** The state a resumed connection's driver saved, if it fits what this open asks for. */
function savedVdisk(v: unknown, wantQueues: number): { info: Uint8Array; queues: number } | null {
  const s = v as { info?: unknown; queues?: unknown } | null;
  return s && s.info instanceof Uint8Array && s.info.length >= INFO_BYTES && Number.isInteger(s.queues)
    && (s.queues as number) >= 1 && (s.queues as number) <= wantQueues ? { info: s.info, queues: s.queues as number } : null;
}

/** NEGOTIATE VDISK_F_MQ with `want` pairs; returns the pairs granted (1 when the device gives no multiqueue). */
function negotiateQueues(conn: Connection, want: number, timeoutMs: number): number {
  const req = new Uint8Array(VDISK_NEGOTIATE_BYTES);
  const v = new DataView(req.buffer);
  v.setUint32(VDISK_NEG_OFF_FEATURES, VDISK_F_MQ, true);
  v.setUint32(VDISK_NEG_OFF_QUEUES, want, true);
  const out = conn.call(VDISK_FN_NEGOTIATE, req, { timeoutMs });
  if (out.length < VDISK_NEGOTIATE_BYTES) throw vbusError('EPROTO', `vdisk: negotiate answered ${out.length} bytes, expected ${VDISK_NEGOTIATE_BYTES}`);
  const r = new DataView(out.buffer, out.byteOffset, out.length);
  const granted = r.getUint32(VDISK_NEG_OFF_QUEUES, true);
  if ((r.getUint32(VDISK_NEG_OFF_FEATURES, true) & VDISK_F_MQ) === 0) return 1;
  if (granted < 1 || granted > want) throw vbusError('EPROTO', `vdisk: the device granted ${granted} queue pairs for ${want} asked`, { granted, want });
  return granted;
}

/**
 * In a child guest on the same bus: drives queue pair `handle.pair` of a vdisk its parent
 * opened with several queues (see {@link VdiskDriver.queueHandle}). The result is a
 * VdiskDriver of its own (read, write, flush, ... on that pair); its close() stops it
 * without closing the parent's connection. EINVAL for a handle of another bus or kind,
 * ENOTSUP on a bus without shared memory (the message transport).
 */
export function attachVdiskQueue(guest: GuestConnector, handle: VdiskQueueHandle, opts: { spin?: SpinPolicy } = {}): VdiskDriver {
  if (handle?.kind !== 'vdisk-queue' || !handle.req || !handle.cpl || !handle.data) {
    throw vbusError('EINVAL', 'attachVdiskQueue: not a vdisk queue handle (use VdiskDriver.queueHandle(pair))');
  }
  if (handle.bus !== guest.busName) {
    throw vbusError('EINVAL', `attachVdiskQueue: the handle is for bus ${handle.bus}, this guest is on ${guest.busName}`, { bus: handle.bus });
  }
  if (guest.bus.transport !== 'shared') {
    throw vbusError('ENOTSUP', 'attachVdiskQueue: a queue handed to another thread needs shared bus memory (not the message transport)');
  }
  if (handle.req.kind !== SHM_RING_TO_DEVICE || handle.cpl.kind !== SHM_RING_TO_GUEST || handle.data.kind !== SHM_BUFFER) {
    throw vbusError('EINVAL', 'attachVdiskQueue: the handle\'s regions are not a request ring, a completion ring and a buffer');
  }
  guest.bus.checkRange(handle.data.offset, handle.data.bytes, 'vdisk data buffer');
  const req = new ProducerEnd(guest.bus, handle.req, opts.spin);
  const cpl = new ConsumerEnd(guest.bus, handle.cpl, opts.spin ?? completionSpin(handle.queues));
  return new VdiskDriver(null, req, cpl, handle.data, { capacity: handle.capacity, blockSize: handle.blockSize, flags: handle.flags },
    { queueDepth: handle.queueDepth, maxSegment: handle.maxSegment, timeoutMs: handle.timeoutMs, pair: handle.pair, queues: handle.queues, deviceId: handle.deviceId, busName: handle.bus });
}

/**
 * The vdisk device model: platform-neutral, the same code in the host thread and in a
 * backend worker (`createVdiskModel(init)` is the factory both call; init is plain,
 * structured-cloneable data).
 *
 * Each poll drains the request ring: for every descriptor it reserves a completion
 * record first (so a full completion ring leaves the request in place: `rewind`, and the
 * ring's space signal polls us again), copies the descriptor's fields once, validates
 * them, does the I/O synchronously on the store, writes the completion and releases the
 * request. After the batch it commits all completions and raises the guest's signal
 * once. A corrupt ring faults only its queue pair: that pair's poll does nothing from
 * then on, the connection's other pairs go on.
 *
 * Multiqueue (abi.ts, VDISK_F_MQ): a connection has up to `queues` pairs (the admin's
 * cap, fixed per connection at NEGOTIATE). Each poll serves every pair, starting one
 * further each time, each pair with its own budget, so no pair starves another; a
 * request's completion goes on its own pair's completion ring.
 */
import { SHM_BUFFER, SHM_RING_TO_DEVICE, SHM_RING_TO_GUEST } from '../../../assembly/layout/callslot.js';
import { Status } from '../../core/status.js';
import type { ConsumerEnd, ProducerEnd } from '../../core/queue.js';
import { deviceConsumer, deviceProducer } from '../../connector/device-queues.js';
import type { ConnectorModel, DeviceConnection, ShmRegion } from '../../connector/types.js';
import { ERRNO, vbusError } from '../../errors.js';
import {
  VDISK_VERSION, VDISK_FN_INFO, VDISK_FN_NEGOTIATE, VDISK_NEGOTIATE_BYTES, VDISK_NEG_OFF_FEATURES, VDISK_NEG_OFF_QUEUES,
  VDISK_F_MQ, VDISK_QUEUES_PER_PAIR, VDISK_Q_REQUEST, VDISK_Q_COMPLETE, VDISK_Q_DATA,
  INFO_BYTES, INFO_OFF_VERSION, INFO_OFF_BLOCK, INFO_OFF_CAP_LO, INFO_OFF_CAP_HI, INFO_OFF_FLAGS, INFO_F_READONLY, INFO_F_FLUSH,
  REQ_BYTES, REQ_OFF_OP, REQ_OFF_ID, REQ_OFF_LEN, REQ_OFF_BUF, REQ_OFF_OFF_LO, REQ_OFF_OFF_HI,
  CPL_BYTES, CPL_OFF_ID, CPL_OFF_STATUS, CPL_OFF_LEN, CPL_OFF_RESERVED,
  VDISK_OP_READ, VDISK_OP_WRITE, VDISK_OP_FLUSH, VDISK_OP_BARRIER,
} from './abi.js';
import { VdiskCounters } from './counters.js';
import { MemoryStore, type BlockStore } from './store.js';
import { vdiskFiles } from './store-registry.js';
import type { StateValue } from '../../state/codec.js';
import { StateReader } from '../../state/read.js';

/** Start data of a vdisk model (structured-cloneable: it travels to backend workers). */
export interface VdiskModelInit {
  /** Backing file; '' for memory. */
  srcPath: string;
  /** Bytes (for a file: 0 = the file's size; larger extends a writable file). */
  capacity: number;
  readonly: boolean;
  blockSize: number;
  /** Shared counters (see VdiskCounters). */
  counters: SharedArrayBuffer;
  /** The memory backing when srcPath is '' (shared so every placement serves one disk). */
  memory?: SharedArrayBuffer | null;
  /**
   * Complete FLUSH later, from the store's asynchronous flush, instead of blocking in
   * poll (the host thread sets it: its event loop must not stall on an fdatasync). A
   * backend owns its thread and flushes synchronously.
   */
  asyncFlush?: boolean;
  /** The admin's `queues`: most queue pairs a connection may negotiate (default 1). */
  queues?: number;
}

/** A vdisk model: the connector hooks plus its geometry and an explicit release. */
export interface VdiskModel extends ConnectorModel {
  readonly capacity: number;
  readonly blockSize: number;
  readonly readonly: boolean;
  /** Closes the store; connections answer ENODEV afterwards. */
  release(): void;
  /** An attribute changed (`queues` applies to later negotiations). */
  attrChanged(name: string, value: string): void;
}

/** Most requests taken from one pair in one poll, so one busy guest cannot hold the host loop forever. */
const MAX_PER_POLL = 1024;
/** Completions published together at most, so a long batch does not hold the first ones back. */
const EARLY_COMMIT = 16;

/** One queue pair of a connection. */
interface Queues {
  req: ConsumerEnd | null;
  cpl: ProducerEnd | null;
  data: ShmRegion | null;
  faulted: boolean;
  /** A FLUSH in progress (async): nothing after it starts until it completes. */
  flushing: boolean;
  /** A completion that found the ring full (only an async one can): posted first next poll. */
  held: { id: number; status: number } | null;
}

/** One open connection: its queue pairs and what it negotiated. */
interface Conn {
  pairs: Array<Queues | undefined>;
  /** Pairs this connection may set up (1 until VDISK_F_MQ is negotiated). */
  queues: number;
  features: number;
  /** The pair the next poll starts with (round robin). */
  next: number;
}

function newPair(): Queues {
  return { req: null, cpl: null, data: null, faulted: false, flushing: false, held: null };
}

/** Opens the store an init describes. Throws VbusError (ENOENT, ENOTSUP, EINVAL ...). */
export function openVdiskStore(init: VdiskModelInit): BlockStore {
  if (init.srcPath === '') {
    if (!init.memory) throw vbusError('EINVAL', 'vdisk: a memory-backed disk needs its memory (set capacity before linking)', { capacity: init.capacity });
    return new MemoryStore(init.memory);
  }
  return vdiskFiles().open({ path: init.srcPath, capacity: init.capacity, readonly: init.readonly, blockSize: init.blockSize });
}

/** The factory the host thread and backend workers call. */
export function createVdiskModel(init: VdiskModelInit): VdiskModel {
  return new VdiskModelImpl(init, openVdiskStore(init));
}

class VdiskModelImpl implements VdiskModel {
  readonly capacity: number;
  readonly blockSize: number;
  readonly readonly: boolean;
  private readonly counters: VdiskCounters;
  private readonly asyncFlush: boolean;
  private readonly conns = new Map<number, Conn>();
  private store: BlockStore | null;
  private queueCap: number;

  constructor(init: VdiskModelInit, store: BlockStore) {
    this.store = store;
    this.blockSize = init.blockSize;
    this.readonly = init.readonly;
    // Whole blocks only: a tail shorter than a block is not addressable.
    this.capacity = store.size - (store.size % init.blockSize);
    this.counters = new VdiskCounters(init.counters);
    this.asyncFlush = init.asyncFlush === true;
    this.queueCap = init.queues ?? 1;
  }

  attrChanged(name: string, value: string): void {
    if (name === 'queues') this.queueCap = Number(value); // parsed by the attribute (attributes.ts)
  }

  open(conn: DeviceConnection): void {
    if (!this.store) throw vbusError('ENODEV', 'vdisk: the device was released');
    if (conn.version !== VDISK_VERSION) {
      throw vbusError('ENOTSUP', `vdisk: interface version ${conn.version} is not supported (this device speaks ${VDISK_VERSION})`, { version: conn.version });
    }
    // A reset replays close/open/shm with the regions the connection has (conn-reset.ts):
    // pairs above 0 among them were negotiated before, so the count carries over.
    const queues = Math.max(1, ...conn.shms.map((r) => Math.floor(r.queue / VDISK_QUEUES_PER_PAIR) + 1));
    this.conns.set(conn.id, { pairs: [newPair()], queues, features: queues > 1 ? VDISK_F_MQ : 0, next: 0 });
  }

  call(conn: DeviceConnection, func: number, payload: Uint8Array, out: Uint8Array): number {
    if (!this.store) return -ERRNO.ENODEV;
    if (func === VDISK_FN_NEGOTIATE) return this.negotiate(conn, payload, out);
    if (func !== VDISK_FN_INFO) return -ERRNO.ENOSYS;
    if (out.length < INFO_BYTES) return -ERRNO.EMSGSIZE;
    const v = new DataView(out.buffer, out.byteOffset, INFO_BYTES);
    v.setUint32(INFO_OFF_VERSION, VDISK_VERSION, true);
    v.setUint32(INFO_OFF_BLOCK, this.blockSize, true);
    v.setUint32(INFO_OFF_CAP_LO, this.capacity % 0x1_0000_0000, true);
    v.setUint32(INFO_OFF_CAP_HI, Math.floor(this.capacity / 0x1_0000_0000), true);
    v.setUint32(INFO_OFF_FLAGS, (this.readonly ? INFO_F_READONLY : 0) | (this.store.volatileCache ? INFO_F_FLUSH : 0), true);
    v.setUint32(INFO_OFF_FLAGS + 4, 0, true);
    return INFO_BYTES;
  }

  /** NEGOTIATE: features and queue pairs (abi.ts). Reads the request once, answers in place. */
  private negotiate(conn: DeviceConnection, payload: Uint8Array, out: Uint8Array): number {
    const c = this.conns.get(conn.id);
    if (!c) return -ERRNO.ENOTCONN;
    if (payload.length < VDISK_NEGOTIATE_BYTES || out.length < VDISK_NEGOTIATE_BYTES) return -ERRNO.EINVAL;
    const v = new DataView(payload.buffer, payload.byteOffset, VDISK_NEGOTIATE_BYTES);
    const offered = v.getUint32(VDISK_NEG_OFF_FEATURES, true);
    const wanted = v.getUint32(VDISK_NEG_OFF_QUEUES, true);
    if (wanted < 1) return -ERRNO.EINVAL;
    // The count is fixed once a pair above 0 exists: its rings stay served as they are.
    if (c.pairs.length <= 1) c.queues = (offered & VDISK_F_MQ) !== 0 ? Math.min(wanted, this.queueCap) : 1;
    c.features = c.queues > 1 ? VDISK_F_MQ : 0;
    const r = new DataView(out.buffer, out.byteOffset, VDISK_NEGOTIATE_BYTES);
    r.setUint32(VDISK_NEG_OFF_FEATURES, c.features, true);
    r.setUint32(VDISK_NEG_OFF_QUEUES, c.queues, true);
    return VDISK_NEGOTIATE_BYTES;
  }

  shm(conn: DeviceConnection, region: ShmRegion): void {
    const c = this.conns.get(conn.id);
    if (!c) throw vbusError('ENOTCONN', `vdisk: connection ${conn.id} is not open`);
    const pair = Math.floor(region.queue / VDISK_QUEUES_PER_PAIR);
    const role = region.queue % VDISK_QUEUES_PER_PAIR;
    if (pair >= c.queues) {
      throw vbusError('EINVAL', `vdisk: queue ${region.queue} is in queue pair ${pair}, but this connection has ${c.queues} (0 requests, 1 completions, 2 data; negotiate VDISK_F_MQ for more)`, { queue: region.queue, queues: c.queues });
    }
    const want = role === VDISK_Q_REQUEST ? SHM_RING_TO_DEVICE : role === VDISK_Q_COMPLETE ? SHM_RING_TO_GUEST : SHM_BUFFER;
    if (region.kind !== want) throw vbusError('EINVAL', `vdisk: queue ${region.queue} must be region kind ${want}, not ${region.kind}`, { queue: region.queue, kind: region.kind });
    while (c.pairs.length <= pair) c.pairs.push(undefined);
    const q = c.pairs[pair] ??= newPair();
    if (role === VDISK_Q_REQUEST) {
      if (q.req) throw vbusError('EEXIST', 'vdisk: the request ring is already set up');
      q.req = deviceConsumer(conn.memory, region);
    } else if (role === VDISK_Q_COMPLETE) {
      if (q.cpl) throw vbusError('EEXIST', 'vdisk: the completion ring is already set up');
      q.cpl = deviceProducer(conn.memory, region);
    } else {
      if (q.data) throw vbusError('EEXIST', 'vdisk: the data buffer is already set up');
      q.data = region;
    }
  }

  /** Serves every pair of the connection, each with its own budget, starting one further each time. */
  poll(conn: DeviceConnection): number {
    const c = this.conns.get(conn.id);
    if (!c) return 0;
    const pairs = c.pairs, len = pairs.length;
    if (len === 1) return this.pollPair(conn, pairs[0]!);
    const first = c.next++ % len;
    let n = 0;
    for (let i = 0; i < len; i++) {
      const q = pairs[(first + i) % len];
      if (q) n += this.pollPair(conn, q);
    }
    return n;
  }

  private pollPair(conn: DeviceConnection, q: Queues): number {
    const store = this.store;
    if (!q.req || !q.cpl || !q.data || q.faulted || !store || q.flushing) return 0;
    const rx = q.req.ring, tx = q.cpl.ring;
    if (q.held) { // a late completion waits for room before anything else may complete
      if (!this.post(q, q.held.id, q.held.status)) return 0;
      q.held = null;
    }
    const mem = conn.memory;
    const u32 = mem.u32, i32 = mem.i32, u8 = mem.u8, core = mem.core;
    const dataBase = q.data.offset, dataBytes = q.data.bytes;
    const bs = this.blockSize, cap = this.capacity;
    const asyncFlush = this.asyncFlush && !this.readonly && store.flushAsync !== undefined;
    let n = 0, reads = 0, writes = 0, flushes = 0, errors = 0;
    while (n < MAX_PER_POLL) {
      const len = rx.peek();
      if (len < 0) { if (len === Status.FAULT) q.faulted = true; break; }
      if (asyncFlush && len === REQ_BYTES) {
        const p = rx.peekOffset >> 2;
        if (u32[p + (REQ_OFF_OP >> 2)] === VDISK_OP_FLUSH && u32[p + (REQ_OFF_LEN >> 2)] === 0) {
          // Complete it later, from the store's callback; take nothing after it until then
          // (a flush is a barrier). Everything before it already ran; its completions are
          // committed below, before the flush's.
          const id = u32[p + (REQ_OFF_ID >> 2)]!;
          if (rx.release() === Status.FAULT) { q.faulted = true; break; }
          this.startFlush(conn, q, store, id);
          n++;
          break;
        }
      }
      const at = tx.reserve(CPL_BYTES);
      if (at < 0) { // completion ring full (or corrupt): keep the request for the next poll
        if (at === Status.FAULT || rx.rewind() === Status.FAULT) q.faulted = true;
        else q.cpl.notifyData(); // rule 1 (src/core/ring.ts): FULL may have published a wrap pad only the guest can skip
        break;
      }
      const p = rx.peekOffset >> 2; // payloads are 8-aligned
      let id = 0xffffffff, status = 0, done = 0;
      if (len !== REQ_BYTES) {
        if (len >= REQ_OFF_ID + 4) id = u32[p + (REQ_OFF_ID >> 2)]!;
        status = -ERRNO.EINVAL;
      } else {
        // Read each field once: the guest can rewrite the record while we work.
        const op = u32[p + (REQ_OFF_OP >> 2)]!;
        id = u32[p + (REQ_OFF_ID >> 2)]!;
        const rlen = u32[p + (REQ_OFF_LEN >> 2)]!;
        const buf = u32[p + (REQ_OFF_BUF >> 2)]!;
        const offLo = u32[p + (REQ_OFF_OFF_LO >> 2)]!;
        const offHi = u32[p + (REQ_OFF_OFF_HI >> 2)]!;
        if (op === VDISK_OP_READ || op === VDISK_OP_WRITE) {
          const off = offHi * 0x1_0000_0000 + offLo;
          if (rlen === 0 || rlen % bs !== 0 || offHi > 0x1fffff || off % bs !== 0 || off + rlen > cap
            || core.decode_range(dataBase, dataBytes, buf, rlen) !== 0) {
            status = -ERRNO.EINVAL;
          } else if (op === VDISK_OP_READ) {
            status = store.read(off, u8.subarray(buf, buf + rlen));
            if (status >= 0) { done = status; status = 0; reads++; }
          } else if (this.readonly) {
            status = -ERRNO.EROFS;
          } else {
            status = store.write(off, u8.subarray(buf, buf + rlen));
            if (status >= 0) { done = status; status = 0; writes++; }
          }
        } else if (op === VDISK_OP_FLUSH || op === VDISK_OP_BARRIER) {
          // Requests run one after another here, so every earlier one has completed:
          // a barrier has nothing left to wait for, a flush only needs the fdatasync.
          if (rlen !== 0) status = -ERRNO.EINVAL;
          else if (op === VDISK_OP_FLUSH) {
            status = this.readonly ? 0 : store.flush();
            if (status >= 0) flushes++;
          }
        } else {
          status = -ERRNO.EINVAL;
        }
      }
      if (status < 0) errors++;
      const c = at >> 2;
      u32[c + (CPL_OFF_ID >> 2)] = id;
      i32[c + (CPL_OFF_STATUS >> 2)] = status;
      u32[c + (CPL_OFF_LEN >> 2)] = done;
      u32[c + (CPL_OFF_RESERVED >> 2)] = 0;
      if (rx.release() === Status.FAULT) { q.faulted = true; break; }
      n++;
      // An early interrupt: publish every EARLY_COMMIT completions so the guest can work
      // on them while we go on (the kick is suppressed while it is still draining).
      if (n % EARLY_COMMIT === 0) {
        if (tx.commit() === Status.FAULT) { q.faulted = true; break; }
        q.cpl.notifyData();
      }
    }
    if (q.faulted) errors++;
    // Counters before the commit that publishes the batch: a guest (or a test) that has
    // seen a completion finds it counted, in a backend thread too.
    if (n > 0 || errors > 0) this.counters.add(reads, writes, flushes, errors);
    if (n > 0) {
      if (tx.commit() === Status.FAULT) q.faulted = true; // all completions of the batch at once
      q.cpl.notifyData(); // one notification for the batch
      this.counters.observeInflight(n);
    }
    if (rx.headMoved()) q.req.notifySpace(); // rule 2: requests or a skipped wrap pad freed space
    return n;
  }

  /** Runs an asynchronous flush for request `id`; completes it and goes on when it is done. */
  private startFlush(conn: DeviceConnection, q: Queues, store: BlockStore, id: number): void {
    q.flushing = true;
    store.flushAsync!((status) => {
      if (!this.conns.get(conn.id)?.pairs.includes(q) || this.store !== store) return; // closed meanwhile
      q.flushing = false;
      this.counters.add(0, 0, status < 0 ? 0 : 1, status < 0 ? 1 : 0);
      if (!this.post(q, id, status)) { q.held = { id, status }; return; } // the ring's space signal polls us
      this.pollPair(conn, q); // requests that queued up behind the flush
    });
  }

  /** Posts one completion on its own (commit and kick). False if the ring is full. */
  private post(q: Queues, id: number, status: number): boolean {
    const tx = q.cpl!.ring;
    const at = tx.reserve(CPL_BYTES);
    if (at < 0) { if (at === Status.FAULT) q.faulted = true; else q.cpl!.notifyData(); return false; } // rule 1 on FULL
    const mem = tx.bus, c = at >> 2;
    mem.u32[c + (CPL_OFF_ID >> 2)] = id;
    mem.i32[c + (CPL_OFF_STATUS >> 2)] = status;
    mem.u32[c + (CPL_OFF_LEN >> 2)] = 0;
    mem.u32[c + (CPL_OFF_RESERVED >> 2)] = 0;
    if (tx.commit() === Status.FAULT) { q.faulted = true; return false; }
    q.cpl!.notifyData();
    return true;
  }

  close(conn: DeviceConnection): void { this.conns.delete(conn.id); }

  /** A data buffer carries bytes only for requests in flight: none at a safe point. */
  idleRegion(_conn: DeviceConnection, region: ShmRegion): boolean {
    return region.kind === SHM_BUFFER && region.queue % VDISK_QUEUES_PER_PAIR === VDISK_Q_DATA;
  }

  /** A saved connection keeps what it negotiated (the rings are set up again by shm()). */
  saveConnection(conn: DeviceConnection): StateValue {
    const c = this.conns.get(conn.id);
    return c ? { queues: c.queues, features: c.features } : null;
  }

  /** Restores what saveConnection kept; the count is checked against this disk's cap (the file is untrusted). */
  resumeConnection(conn: DeviceConnection, saved: StateValue): void {
    const c = this.conns.get(conn.id);
    if (!c) throw vbusError('ENOTCONN', `vdisk: connection ${conn.id} is not open`);
    const r = new StateReader(saved, 'vdisk connection');
    const queues = r.field('queues').int(1, this.queueCap);
    c.queues = queues;
    c.features = queues > 1 ? VDISK_F_MQ : 0;
  }

  /** True when a pair of the connection stopped on a corrupt ring (the connection needs a reset to get it back). */
  faulted(conn: DeviceConnection): boolean { return this.conns.get(conn.id)?.pairs.some((q) => q?.faulted === true) === true; }

  release(): void {
    this.conns.clear();
    const s = this.store;
    this.store = null;
    s?.close();
  }
}

/**
 * Rings: the TypeScript face of the core's SPSC ring (assembly/ring.ts).
 *
 * Allocation is apart from attachment: the host calls {@link createRing} to place and
 * format a ring in a bus memory and gets a {@link RingDescriptor}, a plain object it
 * can post to the other side. Each side then attaches with a fixed role:
 * {@link RingProducer} or {@link RingConsumer}. Attaching checks the region's magic,
 * version and capacity.
 *
 * Hot paths return numbers: a count, length or offset (>= 0) on success, or a negative
 * {@link Status}. They never throw for full, empty or a corrupt ring; a corrupt ring
 * makes them return Status.FAULT from then on (sticky, `fault` says why). Only misuse
 * (a record that can never fit, a bad tag, a buffer outside the memory) throws a
 * {@link VbusError}.
 */
import {
  RING_HEADER_BYTES, RING_MIN_CAPACITY, RING_MAX_CAPACITY, RING_MAX_TAG, REC_HEADER_BYTES, REC_OFF_LEN, REC_OFF_TAG, REC_ALIGN,
  IOV_BYTES, IOV_OFF_PTR, IOV_OFF_LEN, IOV_OFF_TAG, RING_OFF_MAGIC, RING_OFF_READ, RING_OFF_HEAD, RING_MAGIC, RING_OFF_CAPACITY,
} from '../../assembly/layout/ring.js';
import { vbusError } from '../errors.js';
import type { BusMemory } from './bus-memory.js';
import type { CoreExports } from './core-module.js';
import { Status, FaultReason, faultText, knownFaultReason, statusName } from './status.js';

/** Where a ring lives. Plain data: post it to a worker, keep it in host tables. */
export interface RingDescriptor {
  /** Byte offset of the ring region in its bus memory (64-aligned). */
  readonly offset: number;
  /** Data bytes; a power of two. */
  readonly capacity: number;
}

/** Bytes a ring region of `capacity` data bytes occupies. */
export function ringRegionBytes(capacity: number): number {
  return RING_HEADER_BYTES + capacity;
}

/** Largest payload a ring of `capacity` bytes accepts in one record. */
export function ringMaxPayload(capacity: number): number {
  return capacity - REC_HEADER_BYTES;
}

/** Bytes one record of `len` payload bytes occupies in a ring (header + payload, 8-aligned). */
export function ringRecordBytes(len: number): number {
  return (REC_HEADER_BYTES + len + REC_ALIGN - 1) & ~(REC_ALIGN - 1);
}

function checkCapacity(capacity: number): void {
  if (!Number.isInteger(capacity) || capacity < RING_MIN_CAPACITY || capacity > RING_MAX_CAPACITY || (capacity & (capacity - 1)) !== 0) {
    throw vbusError('EINVAL', `ring capacity ${capacity} must be a power of two between ${RING_MIN_CAPACITY} and ${RING_MAX_CAPACITY}`, { capacity });
  }
}

/** Host: places and formats a ring of `capacity` data bytes in `bus`. Nothing changes on error. */
export function createRing(bus: BusMemory, capacity: number): RingDescriptor {
  checkCapacity(capacity);
  const offset = bus.allocRegion(ringRegionBytes(capacity), `ring of ${capacity} bytes`);
  const st = bus.core.ring_init(offset, capacity);
  if (st < 0) {
    bus.freeRegion(offset);
    throw vbusError('EINVAL', `cannot format a ring at ${offset} with capacity ${capacity}: ${statusName(st)}`, { offset, capacity });
  }
  return { offset, capacity };
}

/** Host: formats a ring at a caller-chosen offset (the caller owns the placement). */
export function formatRing(bus: BusMemory, desc: RingDescriptor): void {
  checkCapacity(desc.capacity);
  bus.checkRange(desc.offset, ringRegionBytes(desc.capacity), 'ring region');
  const st = bus.core.ring_init(desc.offset, desc.capacity);
  if (st < 0) throw vbusError('EINVAL', `cannot format a ring at ${desc.offset}: offset must be 64-aligned`, { ...desc });
}

/** Host: returns a ring's region to the bus allocator. */
export function destroyRing(bus: BusMemory, desc: RingDescriptor): void {
  bus.u32[(desc.offset + RING_OFF_MAGIC) >> 2] = 0; // late attachers see "not a ring"
  bus.freeRegion(desc.offset);
}

/**
 * Throws for a record length or tag the core would silently truncate (the wasm ABI
 * converts numbers with ToInt32): a length that is not a whole number of bytes, or a
 * tag outside 0..RING_MAX_TAG (negative, too large, fractional or NaN).
 */
function badRecord(len: number, tag: number, maxPayload: number): never {
  if (!Number.isInteger(len) || len < 0) {
    throw vbusError('EINVAL', `record length ${len} must be a whole number of bytes`, { len });
  }
  if (len > maxPayload) {
    throw vbusError('EMSGSIZE', `record of ${len} bytes can never fit a ring with max payload ${maxPayload}`, { len, maxPayload });
  }
  throw vbusError('EINVAL', `record tag ${tag} must be an integer between 0 and ${RING_MAX_TAG}`, { tag });
}

abstract class RingEnd {
  readonly bus: BusMemory;
  readonly offset: number;
  readonly capacity: number;
  /** Largest payload of one record. */
  readonly maxPayload: number;
  protected readonly core: CoreExports;
  private faultReason = 0;

  constructor(bus: BusMemory, desc: RingDescriptor) {
    checkCapacity(desc.capacity);
    bus.checkRange(desc.offset, ringRegionBytes(desc.capacity), 'ring region');
    const st = bus.core.ring_check(desc.offset, desc.capacity);
    if (st === Status.BAD_MAGIC) {
      const magic = bus.u32[desc.offset >> 2]!;
      throw vbusError('EINVAL', `no ring at offset ${desc.offset}: magic 0x${magic.toString(16)} or version does not match`, { offset: desc.offset, magic });
    }
    if (st < 0) {
      throw vbusError('EINVAL', `ring at offset ${desc.offset} does not have capacity ${desc.capacity} (or is misaligned)`, { ...desc });
    }
    this.bus = bus;
    this.offset = desc.offset;
    this.capacity = desc.capacity;
    this.maxPayload = ringMaxPayload(desc.capacity);
    this.core = bus.core;
  }

  get descriptor(): RingDescriptor { return { offset: this.offset, capacity: this.capacity }; }

  /** True once an operation found the ring corrupt. Sticky: a faulted end never touches the ring again. */
  get faulted(): boolean { return this.faultReason !== 0; }

  /** Why the ring faulted, as a sentence (or 'none'). */
  get fault(): string { return faultText(this.faultReason); }

  /** Fault reason number (FaultReason), 0 if none. */
  get faultCode(): number { return this.faultReason; }

  /** Bytes published and not yet released, as seen now (0 if faulted). */
  used(): number {
    if (this.faultReason) return 0;
    const u = this.core.ring_used(this.offset, this.capacity);
    return u < 0 ? 0 : u;
  }

  /**
   * Records the fault and returns Status.FAULT. A wrong magic or capacity is recognised
   * here (the core writes nothing into a region that fails that check); any other
   * reason is the one the core, or the peer, recorded in the FAULT word.
   */
  protected onFault(): number {
    const u32 = this.bus.u32;
    const headerOk = u32[(this.offset + RING_OFF_MAGIC) >> 2] === RING_MAGIC
      && u32[(this.offset + RING_OFF_CAPACITY) >> 2] === this.capacity;
    const word = headerOk ? this.core.ring_fault(this.offset) : 0;
    // The FAULT word is the peer's to write too: only a reason of our own table is kept.
    this.faultReason = !headerOk ? FaultReason.HEADER : word === 0 ? FaultReason.INDEX : knownFaultReason(word);
    return Status.FAULT;
  }

  /** Host-side recovery after a fault: the ring must be re-formatted by its owner (see formatRing). */
  clearFault(): void { this.faultReason = 0; }
}

/** The producing end of a ring. One thread at a time. */
export class RingProducer extends RingEnd {
  /**
   * Copies `bytes` into a new record and publishes it. Returns 0, Status.FULL or
   * Status.FAULT. Throws EMSGSIZE if the record can never fit, EINVAL for a bad tag.
   */
  push(bytes: Uint8Array, tag = 0): number {
    const at = this.reserve(bytes.length, tag);
    if (at < 0) return at;
    this.bus.u8.set(bytes, at);
    const c = this.commit();
    return c < 0 ? c : 0;
  }

  /**
   * Copies `len` bytes already in the bus memory at `ptr` into a new record. Returns 0,
   * FULL or FAULT. Throws EMSGSIZE if the record can never fit, EINVAL for a bad tag or
   * length or a source outside the memory.
   */
  pushFrom(ptr: number, len: number, tag = 0): number {
    if (this.faulted) return Status.FAULT;
    if ((len >>> 0) !== len || (tag & RING_MAX_TAG) !== tag) badRecord(len, tag, this.maxPayload);
    const st = this.core.ring_push(this.offset, this.capacity, ptr, len, tag);
    if (st >= 0 || st === Status.FULL) return st;
    return this.misuse(st, len, tag, ptr);
  }

  /**
   * Reserves a record of `len` payload bytes and returns the payload's offset in the bus
   * memory: write it in place (`bus.u8`, `bus.view`), then {@link commit}. Several
   * reserves may share one commit. Returns the offset (> 0), FULL or FAULT. Throws
   * EMSGSIZE if the record can never fit, EINVAL for a bad tag or length.
   */
  reserve(len: number, tag = 0): number {
    if (this.faulted) return Status.FAULT;
    if ((len >>> 0) !== len || (tag & RING_MAX_TAG) !== tag) badRecord(len, tag, this.maxPayload);
    const at = this.core.ring_reserve(this.offset, this.capacity, len, tag);
    if (at >= 0 || at === Status.FULL) return at;
    return this.misuse(at, len, tag);
  }

  /** Publishes everything reserved since the last commit. Returns bytes published, or FAULT. */
  commit(): number {
    if (this.faulted) return Status.FAULT;
    const n = this.core.ring_commit(this.offset, this.capacity);
    return n < 0 ? this.onFault() : n;
  }

  /**
   * Batched push from a scatter list in bus memory (see {@link IovList}): copies up to
   * `n` records and publishes them with one index store. Returns the number pushed
   * (0 when full) or FAULT. Throws (EMSGSIZE, EINVAL) only when nothing was pushed and
   * the first entry is malformed, naming that entry's values; entries after a good
   * prefix are reported by the next call.
   */
  pushBatch(iov: number, n: number): number {
    if (this.faulted) return Status.FAULT;
    const st = this.core.ring_push_batch(this.offset, this.capacity, iov, n);
    if (st >= 0) return st;
    if (st === Status.FAULT) return this.onFault();
    // The core refuses a batch only when nothing was pushed: either the list itself
    // lies outside the memory, or its first entry is the malformed one.
    if (!Number.isInteger(iov) || !Number.isInteger(n) || iov < 0 || n < 0 || iov + n * IOV_BYTES > this.bus.byteLength) {
      throw vbusError('EINVAL', `scatter list at ${iov} with ${n} entries is outside the bus memory of ${this.bus.byteLength} bytes`, { iov, n });
    }
    const view = this.bus.view;
    return this.misuse(st, view.getUint32(iov + IOV_OFF_LEN, true), view.getUint32(iov + IOV_OFF_TAG, true), view.getUint32(iov + IOV_OFF_PTR, true));
  }

  private misuse(st: number, len: number, tag: number, ptr?: number): number {
    if (st === Status.FAULT) return this.onFault();
    if (st === Status.TOO_BIG) {
      throw vbusError('EMSGSIZE', `record of ${len} bytes can never fit a ring of ${this.capacity} bytes (max payload ${this.maxPayload})`, { len, capacity: this.capacity });
    }
    if (st === Status.BAD_ARG) {
      if (tag > RING_MAX_TAG || tag < 0) throw vbusError('EINVAL', `record tag ${tag} must be between 0 and ${RING_MAX_TAG}`, { tag });
      throw vbusError('EINVAL', `source ${ptr} (+${len}) is outside the bus memory of ${this.bus.byteLength} bytes`, { ptr, len });
    }
    throw vbusError('EPROTO', `unexpected ring status ${statusName(st)}`, { status: st });
  }
}

/** The consuming end of a ring. One thread at a time. */
export class RingConsumer extends RingEnd {
  /** Payload offset of the record returned by the last {@link peek}. */
  peekOffset = 0;
  /** Tag of the record returned by the last {@link peek} or {@link pop}. */
  tag = 0;
  private lastHead = -1;
  /** READ before the last {@link peek} that returned a record, for {@link rewindLast}; -1 once anything else moved the cursor. */
  private lastPeekFrom = -1;

  /**
   * True if this consumer's published HEAD moved since the previous call (records or
   * skipped pads were released): the moment to raise the producer's space signal.
   */
  headMoved(): boolean {
    const h = Atomics.load(this.bus.u32, (this.offset + RING_OFF_HEAD) >> 2); // own index: no ordering needed beyond reading it
    const moved = h !== this.lastHead;
    this.lastHead = h;
    return moved;
  }

  /**
   * Copies the next record into `into` and releases it (with anything peeked before).
   * Returns its length, EMPTY, NOSPACE (the record is longer than `into`; nothing
   * consumed) or FAULT.
   */
  pop(into: Uint8Array): number {
    const readIdx = (this.offset + RING_OFF_READ) >> 2;
    const before = this.bus.u32[readIdx]!; // own cursor: restored if the record does not fit
    const len = this.peek();
    if (len < 0) return len;
    if (len > into.length) {
      this.bus.u32[readIdx] = before;
      return Status.NOSPACE;
    }
    into.set(this.bus.u8.subarray(this.peekOffset, this.peekOffset + len));
    const r = this.release();
    return r < 0 ? r : len;
  }

  /** Copies the next record to `dst` in bus memory. Returns its length, EMPTY, NOSPACE or FAULT. */
  popTo(dst: number, dstCap: number): number {
    this.lastPeekFrom = -1;
    if (this.faulted) return Status.FAULT;
    const st = this.core.ring_pop(this.offset, this.capacity, dst, dstCap);
    if (st >= 0) { this.tag = this.core.ring_result_tag(); return st; }
    if (st === Status.BAD_ARG) throw vbusError('EINVAL', `destination ${dst} (+${dstCap}) is outside the bus memory`, { dst, dstCap });
    return st === Status.FAULT ? this.onFault() : st;
  }

  /**
   * Batched pop: copies up to `maxN` records to `dst` as packed records (LEN u32, TAG u32,
   * payload, padded to 8; walk them with {@link forEachPacked}) and releases them with
   * one index store. Returns the count (0 when empty), NOSPACE or FAULT.
   */
  popBatch(dst: number, dstCap: number, maxN = 0x7fffffff): number {
    this.lastPeekFrom = -1;
    if (this.faulted) return Status.FAULT;
    const st = this.core.ring_pop_batch(this.offset, this.capacity, dst, dstCap, maxN);
    if (st >= 0 || st === Status.NOSPACE) return st;
    if (st === Status.BAD_ARG) throw vbusError('EINVAL', `destination ${dst} (+${dstCap}) is outside the bus memory`, { dst, dstCap });
    return this.onFault();
  }

  /**
   * Returns the next record in place, without releasing it: its length, with its payload
   * at `bus.u8[peekOffset ...]` and its tag in `tag`. Successive peeks walk forward;
   * {@link release} returns everything peeked. The producer's side can still write those
   * bytes: copy a payload before validating it. Returns the length, EMPTY or FAULT.
   */
  peek(): number {
    if (this.faulted) return Status.FAULT;
    const from = this.bus.u32[(this.offset + RING_OFF_READ) >> 2]!; // own cursor, plain: only this thread moves it
    const len = this.core.ring_peek(this.offset, this.capacity);
    if (len >= 0) {
      this.lastPeekFrom = from;
      this.peekOffset = this.core.ring_result_ptr();
      this.tag = this.core.ring_result_tag();
      return len;
    }
    this.lastPeekFrom = -1; // an EMPTY peek may have moved READ over a pad
    return len === Status.FAULT ? this.onFault() : len;
  }

  /** Releases everything peeked so far. Returns bytes released, or FAULT. */
  release(): number {
    this.lastPeekFrom = -1;
    if (this.faulted) return Status.FAULT;
    const n = this.core.ring_release(this.offset, this.capacity);
    return n < 0 ? this.onFault() : n;
  }

  /**
   * Forgets only the record the last {@link peek} returned: the next peek returns it
   * again, while the records peeked before it stay peeked for {@link release}. For a
   * consumer that releases in batches and finds its output full midway (a plain
   * {@link rewind} would offer the already-handled records again). Only right after a
   * peek that returned a record; otherwise it rewinds everything. Returns 0 or FAULT.
   */
  rewindLast(): number {
    if (this.faulted) return Status.FAULT;
    if (this.lastPeekFrom < 0) { const n = this.rewind(); return n < 0 ? n : 0; }
    this.bus.u32[(this.offset + RING_OFF_READ) >> 2] = this.lastPeekFrom; // own cursor, as pop() restores it: nothing to publish
    this.lastPeekFrom = -1;
    return 0;
  }

  /**
   * Forgets the records peeked since the last {@link release}: the next peek returns the
   * oldest unreleased record again (for a consumer whose own output filled up midway).
   * Returns the bytes un-peeked, or FAULT.
   */
  rewind(): number {
    this.lastPeekFrom = -1;
    if (this.faulted) return Status.FAULT;
    const n = this.core.ring_rewind(this.offset, this.capacity);
    return n < 0 ? this.onFault() : n;
  }

  /** Discards up to `maxN` records. Returns the count, or FAULT. */
  skip(maxN = 0x7fffffff): number {
    this.lastPeekFrom = -1;
    if (this.faulted) return Status.FAULT;
    const n = this.core.ring_skip(this.offset, this.capacity, maxN);
    return n < 0 ? this.onFault() : n;
  }
}

/**
 * A scatter list in bus memory for {@link RingProducer.pushBatch}: entries of
 * (ptr, len, tag) that say where each record's bytes already are.
 */
export class IovList {
  readonly offset: number;
  readonly capacity: number;
  length = 0;
  constructor(private readonly bus: BusMemory, offset: number, capacity: number) {
    bus.checkRange(offset, capacity * IOV_BYTES, 'scatter list');
    this.offset = offset;
    this.capacity = capacity;
  }
  /** Bytes a list of `n` entries needs. */
  static bytes(n: number): number { return n * IOV_BYTES; }
  clear(): void { this.length = 0; }
  /** Appends one entry; returns false when the list is full. */
  add(ptr: number, len: number, tag = 0): boolean {
    if (this.length >= this.capacity) return false;
    const e = (this.offset + this.length * IOV_BYTES) >> 2;
    const u32 = this.bus.u32;
    u32[e + (IOV_OFF_PTR >> 2)] = ptr;
    u32[e + (IOV_OFF_LEN >> 2)] = len;
    u32[e + (IOV_OFF_TAG >> 2)] = tag;
    this.length++;
    return true;
  }
}

/**
 * Walks `count` packed records written by {@link RingConsumer.popBatch} at `at`,
 * calling `fn(payloadOffset, len, tag)`. Returns the offset after the last one.
 */
export function forEachPacked(bus: BusMemory, at: number, count: number, fn: (payload: number, len: number, tag: number) => void): number {
  const u32 = bus.u32;
  for (let i = 0; i < count; i++) {
    const len = u32[(at + REC_OFF_LEN) >> 2]!;
    const tag = u32[(at + REC_OFF_TAG) >> 2]!;
    fn(at + REC_HEADER_BYTES, len, tag);
    at += ringRecordBytes(len);
  }
  return at;
}

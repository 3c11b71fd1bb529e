// Single-producer/single-consumer ring of variable-length records.
// Layout: assembly/layout/ring.ts. Status codes: assembly/layout/status.ts.
//
// Every function takes the ring's base offset and its capacity. The capacity is the
// caller's private copy (the host keeps it in host memory; a guest got it from the
// host): a peer that scribbles over the CAPACITY word cannot make us index outside
// the region, and the mismatch is reported as a fault.
//
// Trust: every word in the region can be rewritten by the other side at any moment.
// Each shared word is read once into a local, checked, and only the local is used.
// All positions are masked with CAPACITY - 1 and every record is checked to lie inside
// the data area before its bytes are touched, so the worst a hostile peer can do is
// corrupt the records of this one ring, which it could do anyway, or make us report
// ST_FAULT.
//
// Memory ordering: WebAssembly atomics are sequentially consistent. A plain store
// (payload) made before an atomic store (TAIL, HEAD) is visible to any thread whose
// atomic load observes that atomic store, which is all the publication protocol needs.
// Each atomic below says in its trailing comment what it orders.
//
// No allocation, no data segments, no static state: the only globals are per-instance
// "second return value" registers, written and read by one thread on one instance.

import {
  RING_MAGIC, RING_VERSION, RING_OFF_MAGIC, RING_OFF_VERSION, RING_OFF_CAPACITY,
  RING_OFF_FAULT, RING_OFF_TAIL, RING_OFF_RESERVE, RING_OFF_CACHED_HEAD, RING_OFF_HEAD,
  RING_OFF_READ, RING_OFF_CACHED_TAIL, RING_HEADER_BYTES, REC_OFF_LEN, REC_OFF_TAG,
  REC_HEADER_BYTES, RING_PAD_TAG, RING_MAX_TAG, RING_MIN_CAPACITY, RING_MAX_CAPACITY,
  REGION_ALIGN, IOV_OFF_PTR, IOV_OFF_LEN, IOV_OFF_TAG, IOV_BYTES,
} from "./layout/ring";
import {
  ST_EMPTY, ST_FULL, ST_FAULT, ST_TOO_BIG, ST_NOSPACE, ST_BAD_MAGIC, ST_BAD_ARG,
  FAULT_INDEX, FAULT_RECORD, FAULT_CURSOR,
} from "./layout/status";

// Second and third return values of ring_peek / ring_reserve (per instance, per thread).
let resultPtr: u32 = 0;
let resultTag: u32 = 0;

/** Payload address of the record returned by the last ring_peek on this instance. */
export function ring_result_ptr(): u32 { return resultPtr; }
/** Tag of the record returned by the last ring_peek or ring_pop on this instance. */
export function ring_result_tag(): u32 { return resultTag; }

@inline function align8(n: u32): u32 { return (n + 7) & ~(7 as u32); }

@inline function isPow2(n: u32): bool { return n != 0 && (n & (n - 1)) == 0; }

/** Bytes of memory the instance can address; used to refuse caller buffers that run past it. */
@inline function memBytes(): u32 { return (memory.size() as u32) << 16; }

/** `[ptr, ptr + len)` lies inside the memory (no u32 overflow). */
@inline function inMemory(ptr: u32, len: u32): bool {
  const size = memBytes();
  return ptr <= size && len <= size - ptr;
}

/** Records a fault reason both sides can read, and returns ST_FAULT. */
function fault(ring: u32, reason: u32): i32 {
  atomic.store<u32>(ring, reason, RING_OFF_FAULT); // publish: the peer's next op reads it
  return ST_FAULT;
}

/**
 * Identity check done at the start of every op: three loads from a line that is only
 * written at create, so it stays in every reader's cache. A nonzero FAULT word means a
 * fault was already recorded (sticky until ring_init).
 *
 * A wrong magic or capacity is reported without writing the FAULT word: the region is
 * no longer verifiably this ring (it may have been destroyed and the place reused by
 * another region), so nothing may be stored into it. Nothing is lost: each side checks
 * the header itself, and the caller can tell HEADER faults apart with ring_check.
 */
@inline function headerStatus(ring: u32, cap: u32): i32 {
  if (load<u32>(ring, RING_OFF_MAGIC) != RING_MAGIC || load<u32>(ring, RING_OFF_CAPACITY) != cap) {
    return ST_FAULT;
  }
  if (atomic.load<u32>(ring, RING_OFF_FAULT) != 0) return ST_FAULT; // sees a fault the peer recorded
  return 0;
}

/** Copies `len` bytes; short payloads by 8-byte words (memory.copy has a fixed cost). */
@inline function copyPayload(dst: u32, src: u32, len: u32): void {
  // The destination is a record padded to 8 bytes, so whole words never spill past it;
  // the source is read word-wise only when its padded end is still inside memory.
  if (len <= 64 && inMemory(src, align8(len))) {
    for (let i: u32 = 0; i < len; i += 8) store<u64>(dst + i, load<u64>(src + i));
  } else {
    memory.copy(dst, src, len);
  }
}

// ---------------------------------------------------------------------------------
// Setup

/**
 * Formats a ring region at `ring` (REGION_ALIGN-aligned) with `cap` data bytes.
 * Returns 0, or ST_BAD_ARG when the capacity is not a power of two in range, the
 * offset is misaligned, or the region does not fit the memory.
 */
export function ring_init(ring: u32, cap: u32): i32 {
  if (!isPow2(cap) || cap < (RING_MIN_CAPACITY as u32) || cap > (RING_MAX_CAPACITY as u32)) return ST_BAD_ARG;
  if ((ring & ((REGION_ALIGN as u32) - 1)) != 0) return ST_BAD_ARG;
  if (!inMemory(ring, (RING_HEADER_BYTES as u32) + cap)) return ST_BAD_ARG;
  memory.fill(ring, 0, RING_HEADER_BYTES);
  store<u32>(ring, RING_VERSION, RING_OFF_VERSION);
  store<u32>(ring, cap, RING_OFF_CAPACITY);
  atomic.store<u32>(ring, RING_MAGIC, RING_OFF_MAGIC); // header fields before the magic that vouches for them
  return 0;
}

/** Attach check: 0 if `ring` holds a ring of this version with capacity `cap`. */
export function ring_check(ring: u32, cap: u32): i32 {
  if (!isPow2(cap) || cap < (RING_MIN_CAPACITY as u32) || cap > (RING_MAX_CAPACITY as u32)) return ST_BAD_ARG;
  if ((ring & ((REGION_ALIGN as u32) - 1)) != 0) return ST_BAD_ARG;
  if (!inMemory(ring, (RING_HEADER_BYTES as u32) + cap)) return ST_BAD_ARG;
  if (atomic.load<u32>(ring, RING_OFF_MAGIC) != RING_MAGIC) return ST_BAD_MAGIC; // magic before the fields it vouches for
  if (load<u32>(ring, RING_OFF_VERSION) != RING_VERSION) return ST_BAD_MAGIC;
  if (load<u32>(ring, RING_OFF_CAPACITY) != cap) return ST_BAD_ARG;
  return 0;
}

/** The fault reason recorded in the ring (0 = none). */
export function ring_fault(ring: u32): u32 {
  return atomic.load<u32>(ring, RING_OFF_FAULT); // reads what either side published
}

/** Bytes currently published and not yet released (0..cap), or ST_FAULT if the indices are inconsistent. */
export function ring_used(ring: u32, cap: u32): i32 {
  const tail = atomic.load<u32>(ring, RING_OFF_TAIL); // a snapshot; no payload is read
  const head = atomic.load<u32>(ring, RING_OFF_HEAD);
  const used = tail - head;
  if (used > cap) return ST_FAULT;
  return used as i32;
}

// ---------------------------------------------------------------------------------
// Producer

/**
 * Reserves a record with `len` payload bytes and `tag`, writes its header, and returns
 * the payload's address for the caller to fill in place. Nothing is visible to the
 * consumer until ring_commit. Several reserves may precede one commit (a batch).
 * Returns the payload address (> 0), ST_FULL, ST_TOO_BIG, ST_BAD_ARG or ST_FAULT.
 */
export function ring_reserve(ring: u32, cap: u32, len: u32, tag: u32): i32 {
  const hs = headerStatus(ring, cap);
  if (hs < 0) return hs;
  return reserveUnchecked(ring, cap, len, tag);
}

function reserveUnchecked(ring: u32, cap: u32, len: u32, tag: u32): i32 {
  if (len > cap - (REC_HEADER_BYTES as u32)) return ST_TOO_BIG;
  if (tag > (RING_MAX_TAG as u32)) return ST_BAD_ARG;
  const rec = align8((REC_HEADER_BYTES as u32) + len);
  const mask = cap - 1;
  const data = ring + (RING_HEADER_BYTES as u32);

  let reserve = load<u32>(ring, RING_OFF_RESERVE); // own cursor: no ordering needed
  let head = load<u32>(ring, RING_OFF_CACHED_HEAD); // own cache of the consumer index
  if ((reserve & 7) != 0 || reserve - head > cap) return fault(ring, FAULT_CURSOR);

  let pos = reserve & mask;
  let toEnd = cap - pos;
  let need = toEnd < rec ? toEnd + rec : rec;
  if (cap - (reserve - head) < need) {
    // The cache says full: look at the consumer's real index.
    head = atomic.load<u32>(ring, RING_OFF_HEAD); // acquire: the consumer read those bytes before it published HEAD
    if ((head & 7) != 0 || reserve - head > cap) return fault(ring, FAULT_INDEX);
    store<u32>(ring, head, RING_OFF_CACHED_HEAD);
    const free = cap - (reserve - head);
    if (free < need) {
      // Cannot place pad + record. If nothing else is pending, publish the pad alone,
      // so the record can start at position 0 once the consumer has skipped it;
      // otherwise a record longer than the space before the end could never be placed.
      if (toEnd < rec && free >= toEnd && load<u32>(ring, RING_OFF_TAIL) == reserve) {
        writePad(data + pos, toEnd);
        reserve += toEnd;
        store<u32>(ring, reserve, RING_OFF_RESERVE);
        atomic.store<u32>(ring, reserve, RING_OFF_TAIL); // pad header before tail
      }
      return ST_FULL;
    }
  }
  if (toEnd < rec) {
    writePad(data + pos, toEnd);
    reserve += toEnd;
    pos = 0;
  }
  const at = data + pos;
  store<u32>(at, len, REC_OFF_LEN);
  store<u32>(at, tag, REC_OFF_TAG);
  store<u32>(ring, reserve + rec, RING_OFF_RESERVE);
  return (at + (REC_HEADER_BYTES as u32)) as i32;
}

@inline function writePad(at: u32, bytes: u32): void {
  store<u32>(at, bytes - (REC_HEADER_BYTES as u32), REC_OFF_LEN);
  store<u32>(at, RING_PAD_TAG as u32, REC_OFF_TAG);
}

/**
 * Publishes every record reserved since the last commit. Returns the number of bytes
 * published (0 if nothing was pending), or ST_FAULT.
 */
export function ring_commit(ring: u32, cap: u32): i32 {
  const hs = headerStatus(ring, cap); // like every op: never write into a region that is not this ring
  if (hs < 0) return hs;
  return commitUnchecked(ring, cap);
}

/** ring_commit after the header check (ring_push and ring_push_batch made it already). */
function commitUnchecked(ring: u32, cap: u32): i32 {
  const reserve = load<u32>(ring, RING_OFF_RESERVE); // own cursor
  const tail = load<u32>(ring, RING_OFF_TAIL); // own published index
  const pending = reserve - tail;
  if (pending > cap || (reserve & 7) != 0) return fault(ring, FAULT_CURSOR);
  if (pending != 0) atomic.store<u32>(ring, reserve, RING_OFF_TAIL); // payloads and headers before tail
  return pending as i32;
}

/**
 * Copies `len` bytes at `src` into a new record and publishes it.
 * Returns 0, ST_FULL, ST_TOO_BIG, ST_BAD_ARG (src outside memory or bad tag) or ST_FAULT.
 */
export function ring_push(ring: u32, cap: u32, src: u32, len: u32, tag: u32): i32 {
  if (!inMemory(src, len)) return ST_BAD_ARG;
  const hs = headerStatus(ring, cap);
  if (hs < 0) return hs;
  const at = reserveUnchecked(ring, cap, len, tag);
  if (at < 0) return at;
  copyPayload(at as u32, src, len);
  const st = commitUnchecked(ring, cap);
  return st < 0 ? st : 0;
}

/**
 * Batched push: copies up to `n` records described by the scatter list at `iov`
 * (IOV_BYTES per entry: ptr, len, tag) and publishes them with one tail store.
 * Stops at the first record that does not fit. Returns the number of records pushed
 * (0 when full), or ST_TOO_BIG / ST_BAD_ARG if the first refused entry is malformed
 * and nothing was pushed, or ST_FAULT.
 */
export function ring_push_batch(ring: u32, cap: u32, iov: u32, n: u32): i32 {
  if (n > 0x7fffffff || !inMemory(iov, n * (IOV_BYTES as u32)) || n > memBytes() / (IOV_BYTES as u32)) return ST_BAD_ARG;
  const hs = headerStatus(ring, cap);
  if (hs < 0) return hs;
  let done: u32 = 0;
  let st: i32 = 0;
  for (; done < n; done++) {
    const e = iov + done * (IOV_BYTES as u32);
    const src = load<u32>(e, IOV_OFF_PTR);
    const len = load<u32>(e, IOV_OFF_LEN);
    if (!inMemory(src, len)) { st = ST_BAD_ARG; break; }
    const at = reserveUnchecked(ring, cap, len, load<u32>(e, IOV_OFF_TAG));
    if (at < 0) { st = at; break; }
    copyPayload(at as u32, src, len);
  }
  const c = commitUnchecked(ring, cap);
  if (c < 0 || st == ST_FAULT) return ST_FAULT;
  if (done == 0 && st != ST_FULL && st < 0) return st;
  return done as i32;
}

// ---------------------------------------------------------------------------------
// Consumer

/**
 * Finds the next non-padding record at the consumer's READ cursor. On success returns
 * its payload length and leaves its payload address in resultPtr, its tag in resultTag,
 * and returns the cursor past it in nextRead (a module-local register).
 */
let nextRead: u32 = 0;

function findNext(ring: u32, cap: u32): i32 {
  const mask = cap - 1;
  const data = ring + (RING_HEADER_BYTES as u32);
  const start = load<u32>(ring, RING_OFF_READ); // own cursor
  let read = start;
  let tail = load<u32>(ring, RING_OFF_CACHED_TAIL); // own cache of the producer index
  let avail = tail - read;
  if ((read & 7) != 0 || avail > cap) return fault(ring, FAULT_CURSOR);
  while (true) {
    if (avail == 0) {
      tail = atomic.load<u32>(ring, RING_OFF_TAIL); // acquire: records written before tail are visible
      avail = tail - read;
      if ((tail & 7) != 0 || avail > cap) return fault(ring, FAULT_INDEX);
      store<u32>(ring, tail, RING_OFF_CACHED_TAIL);
      if (avail == 0) {
        if (read != start) {
          // Only padding was found: hand it back now, or a producer waiting to place a
          // record at position 0 would wait for a release that never comes. Records
          // peeked earlier and not yet released keep HEAD where it is.
          store<u32>(ring, read, RING_OFF_READ);
          if (load<u32>(ring, RING_OFF_HEAD) == start) atomic.store<u32>(ring, read, RING_OFF_HEAD); // pad skipped before head
        }
        return ST_EMPTY;
      }
    }
    const pos = read & mask;
    const at = data + pos;
    const len = load<u32>(at, REC_OFF_LEN); // read once; the producer may rewrite it
    const tag = load<u32>(at, REC_OFF_TAG);
    if (len > cap - (REC_HEADER_BYTES as u32)) return fault(ring, FAULT_RECORD);
    const rec = align8((REC_HEADER_BYTES as u32) + len);
    if (rec > cap - pos || rec > avail) return fault(ring, FAULT_RECORD);
    read += rec;
    avail -= rec;
    if (tag == (RING_PAD_TAG as u32)) {
      if (pos + rec != cap) return fault(ring, FAULT_RECORD); // a pad always runs to the end
      continue;
    }
    if (tag > (RING_MAX_TAG as u32)) return fault(ring, FAULT_RECORD);
    resultPtr = at + (REC_HEADER_BYTES as u32);
    resultTag = tag;
    nextRead = read;
    return len as i32;
  }
  return ST_EMPTY; // unreachable; keeps the type checker content
}

/**
 * Returns the next record in place without releasing it: its payload length, with the
 * address in ring_result_ptr() and the tag in ring_result_tag(). Successive peeks walk
 * forward; ring_release hands everything peeked so far back to the producer.
 * The payload stays writable by the producer's side: copy before validating it.
 * Returns the length (>= 0), ST_EMPTY or ST_FAULT.
 */
export function ring_peek(ring: u32, cap: u32): i32 {
  const hs = headerStatus(ring, cap);
  if (hs < 0) return hs;
  const len = findNext(ring, cap);
  if (len >= 0) store<u32>(ring, nextRead, RING_OFF_READ);
  return len;
}

/** Releases every record peeked so far. Returns the bytes released, or ST_FAULT. */
export function ring_release(ring: u32, cap: u32): i32 {
  const hs = headerStatus(ring, cap); // like every op: never write into a region that is not this ring
  if (hs < 0) return hs;
  return releaseUnchecked(ring, cap);
}

/**
 * Forgets every record peeked since the last release: the next peek returns the oldest
 * unreleased record again. For a consumer that peeked a record it cannot take yet (its
 * own output is full). Returns the bytes un-peeked, or ST_FAULT.
 */
export function ring_rewind(ring: u32, cap: u32): i32 {
  const hs = headerStatus(ring, cap);
  if (hs < 0) return hs;
  const read = load<u32>(ring, RING_OFF_READ); // own cursor
  const head = load<u32>(ring, RING_OFF_HEAD); // own published index
  const n = read - head;
  if (n > cap || (head & 7) != 0) return fault(ring, FAULT_CURSOR);
  store<u32>(ring, head, RING_OFF_READ); // private cursor only: nothing to publish
  return n as i32;
}

/** ring_release after the header check (ring_skip made it already). */
function releaseUnchecked(ring: u32, cap: u32): i32 {
  const read = load<u32>(ring, RING_OFF_READ); // own cursor
  const head = load<u32>(ring, RING_OFF_HEAD); // own published index
  const n = read - head;
  if (n > cap || (read & 7) != 0) return fault(ring, FAULT_CURSOR);
  if (n != 0) atomic.store<u32>(ring, read, RING_OFF_HEAD); // done reading payloads before head
  return n as i32;
}

/**
 * Copies the next record's payload to `dst` (at most `dstCap` bytes) and releases it,
 * together with anything peeked before. Returns the payload length (tag in
 * ring_result_tag()), ST_EMPTY, ST_NOSPACE (record larger than dstCap; nothing
 * consumed), ST_BAD_ARG or ST_FAULT.
 */
export function ring_pop(ring: u32, cap: u32, dst: u32, dstCap: u32): i32 {
  if (!inMemory(dst, dstCap)) return ST_BAD_ARG;
  const hs = headerStatus(ring, cap);
  if (hs < 0) return hs;
  const len = findNext(ring, cap);
  if (len < 0) return len;
  if ((len as u32) > dstCap) return ST_NOSPACE;
  memory.copy(dst, resultPtr, len as u32);
  store<u32>(ring, nextRead, RING_OFF_READ);
  atomic.store<u32>(ring, nextRead, RING_OFF_HEAD); // payload copied out before head
  return len;
}

/**
 * Batched pop: copies up to `maxN` records into `dst` as packed records (the ring's own
 * format: LEN, TAG, payload, padded to 8) and releases them with one head store.
 * Stops when the ring is empty, maxN is reached, or the next record does not fit.
 * Returns the number of records copied (0 when empty), ST_NOSPACE if not even the
 * first record fits, ST_BAD_ARG or ST_FAULT.
 */
export function ring_pop_batch(ring: u32, cap: u32, dst: u32, dstCap: u32, maxN: u32): i32 {
  if (!inMemory(dst, dstCap)) return ST_BAD_ARG;
  const hs = headerStatus(ring, cap);
  if (hs < 0) return hs;
  let n: u32 = 0;
  let out = dst;
  let room = dstCap;
  let st: i32 = 0;
  while (n < maxN) {
    const len = findNext(ring, cap);
    if (len < 0) { st = len; break; }
    const rec = align8((REC_HEADER_BYTES as u32) + (len as u32));
    if (rec > room) { st = ST_NOSPACE; break; }
    store<u32>(out, len, REC_OFF_LEN);
    store<u32>(out, resultTag, REC_OFF_TAG);
    copyPayload(out + (REC_HEADER_BYTES as u32), resultPtr, len as u32);
    out += rec;
    room -= rec;
    store<u32>(ring, nextRead, RING_OFF_READ);
    n++;
  }
  if (st == ST_FAULT) return ST_FAULT;
  if (n > 0) {
    atomic.store<u32>(ring, load<u32>(ring, RING_OFF_READ), RING_OFF_HEAD); // payloads copied out before head
  }
  if (n == 0 && st == ST_NOSPACE) return ST_NOSPACE;
  return n as i32;
}

/**
 * Consumer-side drain that discards records: releases up to `maxN` records without
 * copying them. Returns the number released, or ST_FAULT. Used when a device is reset.
 */
export function ring_skip(ring: u32, cap: u32, maxN: u32): i32 {
  const hs = headerStatus(ring, cap);
  if (hs < 0) return hs;
  let n: u32 = 0;
  while (n < maxN) {
    const len = findNext(ring, cap);
    if (len == ST_FAULT) return ST_FAULT;
    if (len < 0) break;
    store<u32>(ring, nextRead, RING_OFF_READ);
    n++;
  }
  const r = releaseUnchecked(ring, cap);
  return r < 0 ? r : (n as i32);
}

/**
 * The records of a ring its consumer has not taken yet, copied out without touching the
 * ring: what a save carries of a device-to-guest ring (src/devices/venet/state.ts), so
 * that records in flight at the safe point arrive after the restore.
 *
 * The walk starts at the consumer's own position (READ: records it peeked are taken as
 * far as the save is concerned, it may have handed them on) when that lies between HEAD
 * and TAIL, else at HEAD, and follows the record layout of assembly/layout/ring.ts to
 * TAIL. The guest can write every word of the ring, so each one is checked: a record
 * that would not fit, runs past TAIL or has a bad tag ends the walk, and what was read up
 * to there is returned (a corrupt ring carries less, never garbage past its records).
 */
import {
  RING_OFF_TAIL, RING_OFF_HEAD, RING_OFF_READ, RING_HEADER_BYTES, REC_HEADER_BYTES, REC_OFF_LEN, REC_OFF_TAG,
  RING_PAD_TAG, RING_MAX_TAG,
} from '../../assembly/layout/ring.js';
import type { BusMemory } from './bus-memory.js';
import { ringRecordBytes, type RingDescriptor } from './ring.js';

/** One record as it stood in the ring. */
export interface UnreadRecord { tag: number; bytes: Uint8Array }

/** Copies the records between the consumer's position and TAIL (see the module comment). Call it with both sides quiet. */
export function unreadRecords(bus: BusMemory, desc: RingDescriptor): UnreadRecord[] {
  const u32 = bus.u32;
  const base = desc.offset;
  const cap = desc.capacity;
  const data = base + RING_HEADER_BYTES;
  // Atomic loads: TAIL was published by the producer's release store, HEAD/READ by the consumer's.
  const tail = Atomics.load(u32, (base + RING_OFF_TAIL) >> 2) >>> 0;
  const head = Atomics.load(u32, (base + RING_OFF_HEAD) >> 2) >>> 0;
  const read = Atomics.load(u32, (base + RING_OFF_READ) >> 2) >>> 0;
  const held = (tail - head) >>> 0;
  if (held > cap || held % 8 !== 0) return []; // not a ring state the protocol can reach
  const ahead = (read - head) >>> 0;
  let pos = ahead <= held && ahead % 8 === 0 ? read : head;
  const out: UnreadRecord[] = [];
  while (pos !== tail) {
    const at = pos & (cap - 1);
    const left = (tail - pos) >>> 0;
    if (cap - at < REC_HEADER_BYTES || left < REC_HEADER_BYTES) break;
    const len = u32[(data + at + REC_OFF_LEN) >> 2]! >>> 0;
    const tag = u32[(data + at + REC_OFF_TAG) >> 2]! | 0;
    if (tag === RING_PAD_TAG) {
      pos = (pos + (cap - at)) >>> 0; // the pad fills the rest of the data area
      if (((tail - pos) >>> 0) > left) break; // a pad past TAIL
      continue;
    }
    const size = ringRecordBytes(len);
    if (tag < 0 || tag > RING_MAX_TAG || len > cap - REC_HEADER_BYTES || size > cap - at || size > left) break;
    const from = data + at + REC_HEADER_BYTES;
    out.push({ tag, bytes: bus.u8.slice(from, from + len) });
    pos = (pos + size) >>> 0;
  }
  return out;
}

/**
 * Which bytes of a ring region mean something at a safe point: the header (its three
 * lines: identity, the producer's TAIL, the consumer's HEAD) and the records between
 * HEAD and TAIL, which may wrap. Everything else in the data area is what old records
 * left behind. A save carries only these spans (src/snapshot/bus-image.ts), so a
 * 256 KiB ring holding three frames costs its header and the three frames.
 *
 * HEAD and TAIL are guest-writable: a pair the protocol cannot reach (more held than the
 * capacity, or not 8-aligned) carries the whole region, so nothing that was there is
 * lost and nothing outside the region is read.
 */
import { RING_HEADER_BYTES, RING_OFF_HEAD, RING_OFF_TAIL } from '../../assembly/layout/ring.js';
import type { BusMemory } from './bus-memory.js';
import { ringRegionBytes, type RingDescriptor } from './ring.js';

export interface Span { offset: number; bytes: number }

/** The spans of ring `desc` to keep, by offset. Call it with both ends quiet. */
export function ringLiveSpans(bus: BusMemory, desc: RingDescriptor): Span[] {
  const u32 = bus.u32;
  const cap = desc.capacity;
  // Atomic loads: TAIL was published by the producer's release store, HEAD by the consumer's.
  const tail = Atomics.load(u32, (desc.offset + RING_OFF_TAIL) >> 2) >>> 0;
  const head = Atomics.load(u32, (desc.offset + RING_OFF_HEAD) >> 2) >>> 0;
  const held = (tail - head) >>> 0;
  if (held > cap || held % 8 !== 0) return [{ offset: desc.offset, bytes: ringRegionBytes(cap) }];
  const data = desc.offset + RING_HEADER_BYTES;
  const from = head & (cap - 1);
  const spans: Span[] = [{ offset: desc.offset, bytes: RING_HEADER_BYTES }];
  if (held === 0) return spans;
  if (from + held <= cap) {
    spans.push({ offset: data + from, bytes: held });
  } else {
    spans.push({ offset: data, bytes: from + held - cap }); // the wrapped part, at the start of the data area
    spans.push({ offset: data + from, bytes: cap - from });
  }
  return spans;
}

/**
 * A bus memory's image as a save carries it: the regions the connector's saved tables
 * name (src/connector/endpoint-tables.ts: the saved guests' call slots, event rings and
 * signals, their connections' rings and buffers), offset and length, and of those the
 * spans whose bytes mean something, with those bytes one after the other
 * (BusEndpoint.imagePlan): of a ring only its header and the records between its HEAD
 * and TAIL (src/core/ring-span.ts), of a slot, a signal or a buffer a device model calls
 * idle (a vdisk data buffer) nothing. Everything else (free memory, the endpoint's
 * control region and doorbell, a backend's regions) is made afresh by the restore.
 *
 * Read back from a file or a stream, an image is checked before it touches a bus:
 * regions aligned, inside the memory past its header, in order, not overlapping; spans
 * in order, each inside a region; the bytes exactly the spans' total. Applying it places
 * every region where it was, or none.
 */
import { BUS_FIRST_REGION } from '../../assembly/layout/bus.js';
import { REGION_ALIGN } from '../../assembly/layout/ring.js';
import { vbusError } from '../errors.js';
import type { BusMemory } from '../core/bus-memory.js';
import type { Span } from '../core/ring-span.js';
import type { ImagePlan } from '../connector/endpoint-tables.js';

export interface SavedBusImage {
  /** Every region placed, by offset. */
  regions: Span[];
  /** The parts of them carried, by offset; the rest of every region is zero after a restore. */
  spans: Span[];
  /** The spans' bytes, in their order. */
  data: Uint8Array;
}

/** The image of the regions `plan` names, with the spans it names of each, at a safe point (nothing writes them). */
export function captureImage(mem: BusMemory, plan: ImagePlan): SavedBusImage {
  const regions = plan.map((p) => p.region);
  const spans = plan.flatMap((p) => p.spans.filter((s) => s.bytes > 0)).sort((a, b) => a.offset - b.offset);
  const data = new Uint8Array(spans.reduce((a, s) => a + s.bytes, 0));
  let at = 0;
  for (const s of spans) { data.set(mem.u8.subarray(s.offset, s.offset + s.bytes), at); at += s.bytes; }
  return { regions, spans, data };
}

/** Throws EINVAL naming what is wrong with an image for a memory of `memoryBytes`. */
export function checkImage(img: SavedBusImage, memoryBytes: number, what: string): void {
  const bad = (why: string): never => { throw vbusError('EINVAL', `${what}: bus memory image: ${why}`, {}); };
  const int = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;
  let end = BUS_FIRST_REGION;
  for (const r of img.regions) {
    if (!int(r.offset) || !int(r.bytes) || r.bytes === 0 || r.offset % REGION_ALIGN !== 0 || r.bytes % REGION_ALIGN !== 0) bad(`region at ${r.offset} (${r.bytes} bytes) is not ${REGION_ALIGN}-aligned`);
    if (r.offset < end) bad(`region at ${r.offset} overlaps the one before it or the bus header`);
    if (r.offset + r.bytes > memoryBytes) bad(`region at ${r.offset} (${r.bytes} bytes) ends past the bus memory of ${memoryBytes} bytes`);
    end = r.offset + r.bytes;
  }
  let total = 0, last = 0, i = 0;
  for (const s of img.spans) {
    if (!int(s.offset) || !int(s.bytes) || s.bytes === 0 || s.offset < last) bad(`span at ${s.offset} (${s.bytes} bytes) is empty or out of order`);
    while (i < img.regions.length && img.regions[i]!.offset + img.regions[i]!.bytes <= s.offset) i++;
    const r = img.regions[i];
    if (!r || s.offset < r.offset || s.offset + s.bytes > r.offset + r.bytes) bad(`span at ${s.offset} (${s.bytes} bytes) lies outside every region`);
    last = s.offset + s.bytes;
    total += s.bytes;
  }
  if (total !== img.data.length) bad(`${img.data.length} bytes of data for spans of ${total} bytes`);
}

/** Places the image's regions in `mem` (which must hold no other region there) and copies the spans. All or nothing. */
export function applyImage(mem: BusMemory, img: SavedBusImage, what: string): void {
  checkImage(img, mem.byteLength, what);
  const alloc = mem.allocator!;
  const placed: number[] = [];
  try {
    for (const r of img.regions) { alloc.claim(r.offset, r.bytes, `${what}: image region`); placed.push(r.offset); }
  } catch (e) {
    for (const o of placed) alloc.release(o);
    throw e;
  }
  let at = 0;
  for (const s of img.spans) { mem.u8.set(img.data.subarray(at, at + s.bytes), s.offset); at += s.bytes; }
}

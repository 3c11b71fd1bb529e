// ringLiveSpans (src/core/ring-span.ts): what a save's bus image carries of a ring, its
// header and the records between HEAD and TAIL. Seeded records across many
// wrap-arounds (pads included): copying only those spans into a fresh memory at the same
// offsets gives a ring from which a new consumer takes exactly the records the old one
// had not, in order; the ring itself is not touched. A ring whose HEAD/TAIL no ring can
// have (a guest scribbled on them) is carried whole.
import { describe, expect, it } from 'vitest';
import { BusMemory, createRing, RingConsumer, RingProducer } from '../dist/src/index.js';
import { ringLiveSpans } from '../dist/src/core/ring-span.js';
import { Prng } from '../dist/src/testing/index.js';
import { RING_HEADER_BYTES, RING_OFF_TAIL } from '../dist/assembly/layout/ring.js';

const rec = (n: number, len: number) => { const b = new Uint8Array(len); for (let i = 0; i < len; i++) b[i] = (n * 31 + i) & 255; return b; };

describe('live spans of a ring', () => {
  it('carry the records between HEAD and TAIL across wrap-arounds, and nothing else is needed to read them', () => {
    const bus = BusMemory.create({ bytes: 1 << 16 });
    const d = createRing(bus, 1024);
    const p = new RingProducer(bus, d);
    const c = new RingConsumer(bus, d);
    const r = new Prng(21);
    const copy = BusMemory.create({ bytes: 1 << 16 });
    let made = 0, taken = 0, wrapped = 0, carried = 0;
    for (let round = 0; round < 400; round++) {
      while (p.push(rec(made, 1 + r.below(120)), made % 1000) === 0) made++; // fill (lengths vary: pads at the end)
      const take = r.below(made - taken + 1);
      for (let i = 0; i < take; i++) { expect(c.pop(new Uint8Array(200))).toBeGreaterThan(0); taken++; }
      const before = bus.u8.slice(d.offset, d.offset + RING_HEADER_BYTES + d.capacity);
      const spans = ringLiveSpans(bus, d);
      expect(bus.u8.slice(d.offset, d.offset + RING_HEADER_BYTES + d.capacity)).toEqual(before);
      expect(spans[0]).toEqual({ offset: d.offset, bytes: RING_HEADER_BYTES });
      if (spans.length === 3) wrapped++;
      for (let i = 1; i < spans.length; i++) expect(spans[i]!.offset).toBeGreaterThanOrEqual(spans[i - 1]!.offset + spans[i - 1]!.bytes); // in order, apart
      // The image: only the spans, at their offsets, in a memory that is zero elsewhere.
      copy.u8.fill(0);
      for (const s of spans) { copy.u8.set(bus.u8.subarray(s.offset, s.offset + s.bytes), s.offset); carried += s.bytes; }
      const again = new RingConsumer(copy, d);
      const out = new Uint8Array(200);
      for (let i = taken; i < made; i++) {
        const n = again.pop(out);
        expect(n).toBeGreaterThan(0);
        expect(again.tag).toBe(i % 1000);
        expect(out.subarray(0, n)).toEqual(rec(i, n));
      }
      expect(again.pop(out)).toBeLessThan(0); // and nothing after them
    }
    expect(made).toBeGreaterThan(2000); // ~70 bytes a record: over a hundred wrap-arounds of the 1 KiB ring
    expect(wrapped).toBeGreaterThan(20); // live records across the end of the data area, in two spans
    expect(carried).toBeLessThan(400 * (RING_HEADER_BYTES + 1024)); // less than the whole ring each time
  });

  it('of an empty ring: the header alone; of a scribbled one: the whole region', () => {
    const bus = BusMemory.create({ bytes: 1 << 16 });
    const d = createRing(bus, 1024);
    expect(ringLiveSpans(bus, d)).toEqual([{ offset: d.offset, bytes: RING_HEADER_BYTES }]);
    bus.u32[(d.offset + RING_OFF_TAIL) >> 2] = 12345; // a TAIL no ring can have
    expect(ringLiveSpans(bus, d)).toEqual([{ offset: d.offset, bytes: RING_HEADER_BYTES + 1024 }]);
  });
});

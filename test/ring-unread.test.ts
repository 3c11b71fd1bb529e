// unreadRecords (src/core/ring-unread.ts): what a save carries of a ring, read without
// moving it. Seeded records across many wrap-arounds (pads included), records the
// consumer peeked count as taken, and a ring the guest scribbled on carries what is
// valid up to the damage and nothing past it.
import { describe, expect, it } from 'vitest';
import { BusMemory, createRing, RingConsumer, RingProducer } from '../dist/src/index.js';
import { unreadRecords } from '../dist/src/core/ring-unread.js';
import { Prng } from '../dist/src/testing/index.js';
import { RING_HEADER_BYTES, RING_OFF_TAIL } from '../dist/assembly/layout/ring.js';

const rec = (n: number, len: number) => { const b = new Uint8Array(len); for (let i = 0; i < len; i++) b[i] = (n * 31 + i) & 255; return b; };

describe('unread records of a ring', () => {
  it('are the records between the consumer and TAIL, in order, across wrap-arounds, and the ring is unchanged', () => {
    const bus = BusMemory.create({ bytes: 1 << 16 });
    const d = createRing(bus, 1024);
    const p = new RingProducer(bus, d);
    const c = new RingConsumer(bus, d);
    const r = new Prng(15);
    let made = 0, taken = 0;
    for (let round = 0; round < 400; round++) {
      while (p.push(rec(made, 1 + r.below(120)), made % 1000) === 0) made++; // fill (lengths vary: pads at the end)
      const take = r.below(made - taken + 1);
      for (let i = 0; i < take; i++) { expect(c.pop(new Uint8Array(200))).toBeGreaterThan(0); taken++; }
      const before = bus.u8.slice(d.offset, d.offset + RING_HEADER_BYTES + d.capacity);
      const got = unreadRecords(bus, d);
      expect(got.map((x) => x.tag)).toEqual(Array.from({ length: made - taken }, (_, i) => (taken + i) % 1000));
      got.forEach((x, i) => expect(x.bytes).toEqual(rec(taken + i, x.bytes.length)));
      expect(bus.u8.slice(d.offset, d.offset + RING_HEADER_BYTES + d.capacity)).toEqual(before);
    }
    expect(made).toBeGreaterThan(2000); // ~70 bytes a record: over a hundred wrap-arounds of the 1 KiB ring
  });

  it('leaves out what the consumer peeked but did not release', () => {
    const bus = BusMemory.create({ bytes: 1 << 16 });
    const d = createRing(bus, 1024);
    const p = new RingProducer(bus, d);
    const c = new RingConsumer(bus, d);
    for (let i = 0; i < 5; i++) p.push(rec(i, 16), i);
    expect(c.peek()).toBe(16);
    expect(c.peek()).toBe(16);
    expect(unreadRecords(bus, d).map((x) => x.tag)).toEqual([2, 3, 4]);
  });

  it('of a ring a guest scribbled on: the records before the damage, nothing invented', () => {
    const bus = BusMemory.create({ bytes: 1 << 16 });
    const d = createRing(bus, 1024);
    const p = new RingProducer(bus, d);
    for (let i = 0; i < 4; i++) p.push(rec(i, 24), i);
    const data = d.offset + RING_HEADER_BYTES;
    bus.u32[(data + 2 * 32) >> 2] = 0x7fffffff; // the third record's length: far past TAIL
    expect(unreadRecords(bus, d).map((x) => x.tag)).toEqual([0, 1]);
    bus.u32[(d.offset + RING_OFF_TAIL) >> 2] = 12345; // a TAIL no ring can have
    expect(unreadRecords(bus, d)).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { BusMemory, createRing, RingConsumer, RingProducer, Status } from '../dist/src/index.js';

// The wrap pad and the two wake-up rules documented in src/core/ring.ts.
describe('wrap pad published alone', () => {
  it('FULL can publish a pad the consumer must skip; skipping it moves HEAD (headMoved) and frees room', () => {
    const bus = BusMemory.create({ bytes: 1 << 16 });
    const d = createRing(bus, 256);
    const p = new RingProducer(bus, d);
    const c = new RingConsumer(bus, d);
    expect(c.headMoved()).toBe(true); // first call establishes the baseline
    expect(c.headMoved()).toBe(false);
    // Move both indices to position 160 with an empty ring.
    expect(p.push(new Uint8Array(152))).toBe(0);
    expect(c.pop(new Uint8Array(256))).toBe(152);
    expect(c.headMoved()).toBe(true);
    // A 200-byte record needs 208 contiguous bytes; 96 remain before the end. The ring is
    // empty, so the producer publishes the pad alone and reports FULL.
    expect(p.push(new Uint8Array(200).fill(9))).toBe(Status.FULL);
    expect(c.used()).toBe(96); // the pad is published: the consumer must come and skip it (rule 1)
    expect(p.push(new Uint8Array(200).fill(9))).toBe(Status.FULL); // still blocked on the pad
    // The consumer finds no record, but skipping the pad moved HEAD (rule 2).
    expect(c.peek()).toBe(Status.EMPTY);
    expect(c.headMoved()).toBe(true);
    expect(c.used()).toBe(0);
    expect(p.push(new Uint8Array(200).fill(9))).toBe(0);
    const out = new Uint8Array(256);
    expect(c.pop(out)).toBe(200);
    expect(out[199]).toBe(9);
  });
});

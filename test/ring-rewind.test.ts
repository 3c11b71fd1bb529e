import { describe, expect, it } from 'vitest';
import { BusMemory, createRing, RingConsumer, RingProducer, Status } from '../dist/src/index.js';

describe('RingConsumer.rewind', () => {
  it('forgets unreleased peeks: the next peek returns the oldest unreleased record again', () => {
    const bus = BusMemory.create({ bytes: 1 << 16 });
    const d = createRing(bus, 256);
    const p = new RingProducer(bus, d);
    const c = new RingConsumer(bus, d);
    for (let i = 0; i < 3; i++) expect(p.push(new Uint8Array([i, i, i]), i)).toBe(0);
    expect(c.peek()).toBe(3);
    expect(c.tag).toBe(0);
    expect(c.release()).toBe(16); // record 0 consumed
    expect(c.peek()).toBe(3);
    expect(c.tag).toBe(1);
    expect(c.peek()).toBe(3);
    expect(c.tag).toBe(2);
    expect(c.rewind()).toBe(32); // records 1 and 2 handed back
    expect(c.peek()).toBe(3);
    expect(c.tag).toBe(1);
    expect(bus.u8[c.peekOffset]).toBe(1);
    expect(c.release()).toBe(16);
    expect(c.rewind()).toBe(0); // nothing peeked since the release
    expect(c.pop(new Uint8Array(8))).toBe(3);
    expect(c.tag).toBe(2);
    expect(c.peek()).toBe(Status.EMPTY);
  });
});

describe('RingConsumer.rewindLast', () => {
  it('hands back only the last peeked record: the ones before it are released, it is offered again', () => {
    const bus = BusMemory.create({ bytes: 1 << 16 });
    const d = createRing(bus, 256);
    const p = new RingProducer(bus, d);
    const c = new RingConsumer(bus, d);
    for (let i = 0; i < 4; i++) expect(p.push(new Uint8Array([i, i, i]), i)).toBe(0);
    expect(c.peek()).toBe(3);
    expect(c.peek()).toBe(3);
    expect(c.peek()).toBe(3);
    expect(c.tag).toBe(2);
    expect(c.rewindLast()).toBe(0); // record 2 stays; 0 and 1 are still peeked
    expect(c.release()).toBe(32);
    expect(c.used()).toBe(32); // records 2 and 3 remain
    expect(c.peek()).toBe(3);
    expect(c.tag).toBe(2);
    expect(bus.u8[c.peekOffset]).toBe(2);
  });

  it('after a release (nothing peeked since) or an empty peek it rewinds everything, never below what was released', () => {
    const bus = BusMemory.create({ bytes: 1 << 16 });
    const d = createRing(bus, 256);
    const p = new RingProducer(bus, d);
    const c = new RingConsumer(bus, d);
    expect(p.push(new Uint8Array([7]), 1)).toBe(0);
    expect(c.peek()).toBe(1);
    expect(c.release()).toBe(16);
    expect(c.rewindLast()).toBe(0); // nothing to hand back: the released record is not offered again
    expect(c.peek()).toBe(Status.EMPTY);
    expect(c.rewindLast()).toBe(0);
    expect(p.push(new Uint8Array([8]), 2)).toBe(0);
    expect(c.peek()).toBe(1);
    expect(c.tag).toBe(2);
    expect(c.release()).toBe(16);
    expect(c.used()).toBe(0);
  });
});

// Every record size from 0 to the ring's maximum payload, through each way in and out
// of a ring, byte-exact, with canaries around the ring region and around every
// destination buffer.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import {
  BusMemory, RingProducer, RingConsumer, IovList, forEachPacked, Status,
  ringMaxPayload, ringRecordBytes, ringRegionBytes,
} from '../dist/src/internal.js';
import { fillPayload, checkPayload } from './fixtures/prng.mjs';
import { guardedRing, fillCanary, checkCanary, checkCanaryRange, CANARY_BYTES } from './fixtures/canary.mjs';

const CAPACITIES = [64, 128, 1024, 4096];
const SEED = 0x5eed0001;

/** Tag for the record of size `len` in method `m`, so tags vary too. */
const tagOf = (m: number, len: number) => (len * 2654435761 + m) & 0x7fffffff;

function setup(capacity: number) {
  const bus = BusMemory.create({ bytes: 4 * capacity + 65536 });
  const g = guardedRing(bus, capacity, capacity & 0xff);
  const producer = new RingProducer(bus, g.desc);
  const consumer = new RingConsumer(bus, g.desc);
  const max = ringMaxPayload(capacity);
  // A source area and a destination area in bus memory, each with room for a
  // maximal packed record plus canaries on both sides.
  const area = ringRecordBytes(max) + 2 * CANARY_BYTES;
  const src = bus.allocRegion(area, 'source') + CANARY_BYTES;
  const dstRegion = bus.allocRegion(area, 'destination');
  return { bus, g, producer, consumer, max, src, dstRegion, area };
}

/**
 * Pushes with `push`, and when the ring reports FULL although the test keeps it
 * empty, that is the pad at the end: the consumer must skip it (EMPTY) before the
 * record fits at position 0.
 */
let padsSkipped = 0;
function pushOrSkipPad(tryPush: () => number, consumer: RingConsumer, skip: () => number): void {
  let st = tryPush();
  if (st === Status.FULL) {
    padsSkipped++;
    expect(consumer.used()).toBeGreaterThan(0); // the published pad
    expect(skip()).toBe(Status.EMPTY);
    expect(consumer.used()).toBe(0);
    st = tryPush();
  }
  expect(st).toBeGreaterThanOrEqual(0);
}

describe.each(CAPACITIES)('ring of %i bytes: every record size', (capacity) => {
  beforeEach(() => { padsSkipped = 0; });
  // Walking the sizes moves the write position all around the ring, so some records
  // land after a pad; make sure each method met that case.
  afterEach(() => { expect(padsSkipped).toBeGreaterThan(0); });

  it('push(bytes) / pop(into): exact-size destination with canaries', () => {
    const { g, producer, consumer, max } = setup(capacity);
    expect(producer.maxPayload).toBe(max);
    const payload = new Uint8Array(max);
    const backing = new Uint8Array(max + 2 * CANARY_BYTES);
    for (let len = 0; len <= max; len++) {
      fillPayload(SEED, len, payload, 0, len);
      pushOrSkipPad(() => producer.push(payload.subarray(0, len), tagOf(1, len)), consumer,
        () => consumer.pop(new Uint8Array(0)));
      expect(consumer.used()).toBeGreaterThanOrEqual(ringRecordBytes(len));
      fillCanary(backing, 0, backing.length, len);
      const into = backing.subarray(CANARY_BYTES, CANARY_BYTES + len);
      expect(consumer.pop(into)).toBe(len);
      expect(consumer.tag).toBe(tagOf(1, len));
      expect(checkPayload(SEED, len, into, 0, len)).toBe(-1);
      expect(checkCanary(backing, 0, CANARY_BYTES, len)).toBe(-1);
      // Everything after the exact-size destination must be untouched.
      expect(checkCanaryRange(backing, 0, CANARY_BYTES + len, backing.length, len)).toBe(-1);
      expect(consumer.pop(into)).toBe(Status.EMPTY);
      g.check(`after size ${len}`);
    }
    expect(producer.faulted || consumer.faulted).toBe(false);
  });

  it('reserve/commit in place / peek+release in place', () => {
    const { bus, g, producer, consumer, max } = setup(capacity);
    const dataStart = g.desc.offset + ringRegionBytes(capacity) - capacity; // after the header lines
    const dataEnd = dataStart + capacity;
    for (let len = 0; len <= max; len++) {
      pushOrSkipPad(() => {
        const at = producer.reserve(len, tagOf(2, len));
        if (at < 0) return at;
        expect(at).toBeGreaterThanOrEqual(dataStart + 8);
        expect(at + len).toBeLessThanOrEqual(dataEnd);
        fillPayload(SEED, len, bus.u8, at, len);
        expect(producer.commit()).toBeGreaterThanOrEqual(ringRecordBytes(len));
        return 0;
      }, consumer, () => consumer.peek());
      expect(consumer.peek()).toBe(len);
      expect(consumer.peekOffset).toBeGreaterThanOrEqual(dataStart + 8);
      expect(consumer.peekOffset + len).toBeLessThanOrEqual(dataEnd);
      expect(consumer.tag).toBe(tagOf(2, len));
      expect(checkPayload(SEED, len, bus.u8, consumer.peekOffset, len)).toBe(-1);
      expect(consumer.release()).toBeGreaterThanOrEqual(ringRecordBytes(len));
      expect(consumer.used()).toBe(0);
      g.check(`after size ${len}`);
    }
  });

  it('pushFrom / popTo: exact-size destination in bus memory with canaries', () => {
    const { bus, g, producer, consumer, max, src, dstRegion, area } = setup(capacity);
    const dst = dstRegion + CANARY_BYTES;
    for (let len = 0; len <= max; len++) {
      fillPayload(SEED, len, bus.u8, src, len);
      pushOrSkipPad(() => producer.pushFrom(src, len, tagOf(3, len)), consumer, () => consumer.popTo(dst, 0));
      fillCanary(bus.u8, dstRegion, area, len);
      if (len > 0) expect(consumer.popTo(dst, len - 1)).toBe(Status.NOSPACE); // one byte short: nothing consumed
      expect(consumer.popTo(dst, len)).toBe(len);
      expect(consumer.tag).toBe(tagOf(3, len));
      expect(checkPayload(SEED, len, bus.u8, dst, len)).toBe(-1);
      expect(checkCanary(bus.u8, dstRegion, CANARY_BYTES, len)).toBe(-1);
      expect(checkCanaryRange(bus.u8, dstRegion, dst + len, dstRegion + area, len)).toBe(-1);
      g.check(`after size ${len}`);
    }
  });

  it('pushBatch (IovList) / popBatch (forEachPacked): exact-size packed destination', () => {
    const { bus, g, producer, consumer, max, src, dstRegion, area } = setup(capacity);
    const iov = new IovList(bus, bus.allocRegion(IovList.bytes(4), 'iov'), 4);
    const dst = dstRegion + CANARY_BYTES;
    for (let len = 0; len <= max; len++) {
      fillPayload(SEED, len, bus.u8, src, len);
      iov.clear();
      expect(iov.add(src, len, tagOf(4, len))).toBe(true);
      pushOrSkipPad(() => {
        const n = producer.pushBatch(iov.offset, iov.length);
        return n === 1 ? 0 : n === 0 ? Status.FULL : n;
      }, consumer, () => (consumer.popBatch(dst, 0) === 0 ? Status.EMPTY : Status.FAULT)); // popBatch counts: 0 = empty
      const packed = ringRecordBytes(len);
      fillCanary(bus.u8, dstRegion, area, len);
      expect(consumer.popBatch(dst, packed - 1)).toBe(Status.NOSPACE); // too small for the first: nothing consumed
      expect(consumer.popBatch(dst, packed)).toBe(1);
      let seen = 0;
      const end = forEachPacked(bus, dst, 1, (payload, l, tag) => {
        seen++;
        expect(l).toBe(len);
        expect(tag).toBe(tagOf(4, len));
        expect(checkPayload(SEED, len, bus.u8, payload, l)).toBe(-1);
      });
      expect(seen).toBe(1);
      expect(end).toBe(dst + packed);
      expect(checkCanary(bus.u8, dstRegion, CANARY_BYTES, len)).toBe(-1);
      expect(checkCanaryRange(bus.u8, dstRegion, dst + packed, dstRegion + area, len)).toBe(-1);
      expect(consumer.popBatch(dst, packed)).toBe(0); // empty
      g.check(`after size ${len}`);
    }
  });
});

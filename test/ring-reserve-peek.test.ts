// Zero-copy and batched paths: reserve/commit (write in place), peek/release (read in
// place), pushBatch with an IovList, popBatch with forEachPacked, and what happens when
// a destination is too small (nothing is consumed).
import { describe, it, expect } from 'vitest';
import {
  BusMemory, RingProducer, RingConsumer, IovList, forEachPacked, Status,
  createRing, ringRecordBytes,
} from '../dist/src/internal.js';
import { Sequence, Verifier, fillPayload, checkPayload } from './fixtures/prng.mjs';

const SEED = 0x7e57;

function fresh(capacity = 1024) {
  const bus = BusMemory.create({ bytes: 65536 });
  const desc = createRing(bus, capacity);
  return { bus, desc, producer: new RingProducer(bus, desc), consumer: new RingConsumer(bus, desc) };
}

describe('reserve / commit', () => {
  it('several reserves, one commit: nothing is visible before the commit', () => {
    const { bus, producer, consumer } = fresh();
    const lens = [0, 1, 7, 8, 9, 63, 64, 100];
    const offsets: number[] = [];
    let bytes = 0;
    for (let i = 0; i < lens.length; i++) {
      const at = producer.reserve(lens[i]!, 100 + i);
      expect(at).toBeGreaterThan(0);
      expect(at % 8).toBe(0); // payloads are 8-aligned (fast TypedArray.set)
      offsets.push(at);
      bytes += ringRecordBytes(lens[i]!);
      // Reserved, not committed: the consumer sees nothing.
      expect(consumer.peek()).toBe(Status.EMPTY);
      expect(consumer.used()).toBe(0);
    }
    // Fill the payloads in place after all reserves (last first: order does not matter).
    for (let i = lens.length - 1; i >= 0; i--) fillPayload(SEED, i, bus.u8, offsets[i]!, lens[i]!);
    expect(consumer.pop(new Uint8Array(128))).toBe(Status.EMPTY);
    expect(producer.commit()).toBe(bytes);
    expect(producer.commit()).toBe(0); // nothing left to publish
    expect(consumer.used()).toBe(bytes);
    const out = new Uint8Array(128);
    for (let i = 0; i < lens.length; i++) {
      expect(consumer.pop(out)).toBe(lens[i]);
      expect(consumer.tag).toBe(100 + i);
      expect(checkPayload(SEED, i, out, 0, lens[i]!)).toBe(-1);
    }
    expect(consumer.pop(out)).toBe(Status.EMPTY);
  });

  it('a reserve that does not fit reports FULL and keeps the earlier reserves for the commit', () => {
    const { bus, producer, consumer } = fresh(256);
    const a = producer.reserve(100, 1); // 112 bytes
    const b = producer.reserve(100, 2); // 224
    expect(a).toBeGreaterThan(0);
    expect(b).toBe(a + 112);
    expect(producer.reserve(100, 3)).toBe(Status.FULL); // 32 left; pending records: no pad published
    expect(consumer.used()).toBe(0);
    bus.u8.fill(0xa1, a, a + 100);
    bus.u8.fill(0xb2, b, b + 100);
    expect(producer.commit()).toBe(224);
    const out = new Uint8Array(100);
    expect(consumer.pop(out)).toBe(100);
    expect(out.every((x) => x === 0xa1)).toBe(true);
    expect(consumer.pop(out)).toBe(100);
    expect(out.every((x) => x === 0xb2)).toBe(true);
    expect(consumer.tag).toBe(2);
  });
});

describe('peek / release', () => {
  it('peeks walk forward in place; nothing is freed before release', () => {
    const { bus, producer, consumer } = fresh(256);
    // Eight 24-byte records (32 bytes each) fill the ring exactly.
    const payload = new Uint8Array(24);
    for (let i = 0; i < 8; i++) {
      fillPayload(SEED, i, payload, 0, 24);
      expect(producer.push(payload, 10 + i)).toBe(0);
    }
    expect(producer.push(new Uint8Array(0))).toBe(Status.FULL);
    let last = 0;
    for (let i = 0; i < 8; i++) {
      expect(consumer.peek()).toBe(24);
      expect(consumer.tag).toBe(10 + i);
      expect(consumer.peekOffset).toBe(last === 0 ? consumer.peekOffset : last + 32); // forward, record by record
      last = consumer.peekOffset;
      expect(checkPayload(SEED, i, bus.u8, consumer.peekOffset, 24)).toBe(-1);
      expect(producer.push(new Uint8Array(0))).toBe(Status.FULL); // nothing freed yet
      expect(producer.used()).toBe(256);
    }
    expect(consumer.peek()).toBe(Status.EMPTY);
    expect(producer.used()).toBe(256);
    expect(consumer.release()).toBe(256);
    expect(consumer.release()).toBe(0);
    expect(producer.used()).toBe(0);
    expect(producer.push(new Uint8Array(248))).toBe(0); // the whole ring is free again
  });

  it('release hands back only what was peeked', () => {
    const { producer, consumer } = fresh(256);
    for (let i = 0; i < 4; i++) expect(producer.push(new Uint8Array(16).fill(i), i)).toBe(0); // 24 bytes each
    expect(consumer.peek()).toBe(16);
    expect(consumer.peek()).toBe(16);
    expect(consumer.release()).toBe(48);
    expect(consumer.used()).toBe(48);
    expect(consumer.peek()).toBe(16);
    expect(consumer.tag).toBe(2);
  });

  it('pop after peeks releases the peeked records too', () => {
    const { producer, consumer } = fresh(256);
    for (let i = 0; i < 3; i++) expect(producer.push(new Uint8Array(8).fill(i), i)).toBe(0); // 16 bytes each
    expect(consumer.peek()).toBe(8);
    expect(consumer.tag).toBe(0);
    const out = new Uint8Array(8);
    expect(consumer.pop(out)).toBe(8);
    expect(consumer.tag).toBe(1);
    expect(consumer.used()).toBe(16); // records 0 and 1 released together
    expect(consumer.skip()).toBe(1);
    expect(consumer.used()).toBe(0);
  });

  it('skip discards up to n records and releases anything peeked', () => {
    const { producer, consumer } = fresh(256);
    for (let i = 0; i < 6; i++) expect(producer.push(new Uint8Array(i), i)).toBe(0);
    expect(consumer.peek()).toBe(0);
    expect(consumer.skip(2)).toBe(2); // records 1, 2 (0 was peeked; released with them)
    expect(consumer.peek()).toBe(3);
    expect(consumer.tag).toBe(3);
    expect(consumer.skip()).toBe(2);
    expect(consumer.used()).toBe(0);
    expect(consumer.skip()).toBe(0);
  });
});

describe('batches', () => {
  it('pushBatch from an IovList and popBatch walked with forEachPacked, byte-exact', () => {
    const { bus, producer, consumer } = fresh(16384);
    const N = 40;
    const maxLen = 200;
    const seq = new Sequence(SEED ^ 1, maxLen);
    const src = bus.allocRegion(N * ringRecordBytes(maxLen));
    const iov = new IovList(bus, bus.allocRegion(IovList.bytes(N)), N);
    let at = src;
    let bytes = 0;
    let firstThree = 0;
    for (let i = 0; i < N; i++) {
      const len = seq.next();
      seq.fill(bus.u8, at);
      expect(iov.add(at, len, seq.tag)).toBe(true);
      at += ringRecordBytes(len);
      bytes += ringRecordBytes(len);
      if (i < 3) firstThree += ringRecordBytes(len);
    }
    expect(iov.add(src, 0)).toBe(false); // the list is full
    expect(iov.length).toBe(N);
    expect(bytes).toBeLessThanOrEqual(16384);
    expect(producer.pushBatch(iov.offset, iov.length)).toBe(N);
    expect(consumer.used()).toBe(bytes);

    const dst = bus.allocRegion(bytes);
    const verifier = new Verifier(SEED ^ 1, maxLen);
    // maxN limits the count.
    expect(consumer.popBatch(dst, bytes, 3)).toBe(3);
    let end = forEachPacked(bus, dst, 3, (p, len, tag) => expect(verifier.check(bus.u8, p, len, tag)).toBeNull());
    expect(end).toBe(dst + firstThree);
    // The rest at once, into exactly their packed size.
    const rest = bytes - firstThree;
    expect(consumer.popBatch(dst, rest)).toBe(N - 3);
    end = forEachPacked(bus, dst, N - 3, (p, len, tag) => expect(verifier.check(bus.u8, p, len, tag)).toBeNull());
    expect(end).toBe(dst + rest);
    expect(verifier.count).toBe(N);
    expect(consumer.popBatch(dst, rest)).toBe(0);
  });

  it('popBatch stops at the first record that does not fit; NOSPACE when none fits, nothing consumed', () => {
    const { bus, producer, consumer } = fresh(1024);
    expect(producer.push(new Uint8Array(16).fill(1), 1)).toBe(0); // packed 24
    expect(producer.push(new Uint8Array(100).fill(2), 2)).toBe(0); // packed 112
    const dst = bus.allocRegion(256);
    expect(consumer.popBatch(dst, 23)).toBe(Status.NOSPACE);
    expect(consumer.used()).toBe(24 + 112);
    expect(consumer.popBatch(dst, 24 + 111)).toBe(1); // the second does not fit: stops
    expect(consumer.used()).toBe(112);
    expect(consumer.popBatch(dst, 111)).toBe(Status.NOSPACE);
    expect(consumer.used()).toBe(112);
    expect(consumer.popBatch(dst, 112)).toBe(1);
    forEachPacked(bus, dst, 1, (p, len, tag) => {
      expect(len).toBe(100);
      expect(tag).toBe(2);
      expect(bus.u8.subarray(p, p + len).every((x) => x === 2)).toBe(true);
    });
  });
});

describe('destination too small', () => {
  it('pop(into) too small returns NOSPACE and leaves the record in place', () => {
    const { producer, consumer } = fresh(256);
    expect(producer.push(new Uint8Array(10).fill(5), 77)).toBe(0);
    expect(consumer.pop(new Uint8Array(9))).toBe(Status.NOSPACE);
    expect(consumer.used()).toBe(24);
    const out = new Uint8Array(10);
    expect(consumer.pop(out)).toBe(10);
    expect(consumer.tag).toBe(77);
    expect(out.every((x) => x === 5)).toBe(true);
  });

  it('pop(into) too small after peeks keeps both the peeked and the refused record', () => {
    const { producer, consumer } = fresh(256);
    expect(producer.push(new Uint8Array(4).fill(1), 1)).toBe(0); // 16 bytes
    expect(producer.push(new Uint8Array(40).fill(2), 2)).toBe(0); // 48 bytes
    expect(producer.push(new Uint8Array(4).fill(3), 3)).toBe(0);
    expect(consumer.peek()).toBe(4);
    expect(consumer.pop(new Uint8Array(39))).toBe(Status.NOSPACE);
    expect(consumer.used()).toBe(16 + 48 + 16);
    const out = new Uint8Array(40);
    expect(consumer.pop(out)).toBe(40); // record 2, releasing record 1 with it
    expect(consumer.tag).toBe(2);
    expect(consumer.used()).toBe(16);
    expect(consumer.pop(out)).toBe(4);
    expect(consumer.tag).toBe(3);
  });

  it('popTo too small returns NOSPACE and leaves the record in place', () => {
    const { bus, producer, consumer } = fresh(256);
    expect(producer.push(new Uint8Array(33).fill(9), 4)).toBe(0);
    const dst = bus.allocRegion(64);
    bus.u8.fill(0xee, dst, dst + 64);
    expect(consumer.popTo(dst, 32)).toBe(Status.NOSPACE);
    expect(bus.u8.subarray(dst, dst + 64).every((x) => x === 0xee)).toBe(true); // nothing written
    expect(consumer.used()).toBe(48);
    expect(consumer.popTo(dst, 33)).toBe(33);
    expect(consumer.tag).toBe(4);
    expect(bus.u8.subarray(dst, dst + 33).every((x) => x === 9)).toBe(true);
    expect(bus.u8[dst + 33]).toBe(0xee);
  });
});

// Wrap-around, full and empty: thousands of trips around rings of several sizes with
// seeded random record sizes and a random mix of every push and pop method, checked
// step by step against a reference model (FULL/EMPTY/NOSPACE, used bytes, record
// positions) and a byte-exact sequence verifier; then the edges one by one.
import { describe, it, expect } from 'vitest';
import {
  BusMemory, RingProducer, RingConsumer, IovList, forEachPacked, Status,
  ringMaxPayload, ringRecordBytes, ringRegionBytes, createRing,
} from '../dist/src/internal.js';
import {
  RING_OFF_TAIL, RING_OFF_RESERVE, RING_OFF_CACHED_HEAD, RING_OFF_HEAD, RING_OFF_READ, RING_OFF_CACHED_TAIL,
} from '../dist/assembly/layout/ring.js';
import { Prng, Verifier, recordLen, recordTag, fillPayload } from './fixtures/prng.mjs';
import { RingModel } from './fixtures/ring-model.mjs';
import { guardedRing } from './fixtures/canary.mjs';

interface RunOptions {
  capacity: number;
  seed: number;
  /** Trips around the data area to make. */
  wraps: number;
  /** Initial value of the free-running indices (to cross 2^32). */
  start?: number;
}

interface RunReport { wraps: number; records: number; fulls: number; empties: number; nospaces: number }

/** Drives one ring with a seeded random mix of operations and checks every result. */
function runRandom(opts: RunOptions): RunReport {
  const { capacity, seed } = opts;
  const max = ringMaxPayload(capacity);
  const bus = BusMemory.create({ bytes: 2 * capacity + 16 * (max + 8) + 65536 });
  const g = guardedRing(bus, capacity, seed & 0xff);
  const data = g.desc.offset + ringRegionBytes(capacity) - capacity;
  const mask = capacity - 1;
  const start = (opts.start ?? 0) >>> 0;
  if (start !== 0) {
    // A fresh ring whose free-running indices sit just below 2^32: set all six
    // consistently while no side is attached, as if 4 GiB had already passed.
    const u32 = bus.u32;
    for (const off of [RING_OFF_TAIL, RING_OFF_RESERVE, RING_OFF_CACHED_HEAD, RING_OFF_HEAD, RING_OFF_READ, RING_OFF_CACHED_TAIL]) {
      u32[(g.desc.offset + off) >> 2] = start;
    }
  }
  const producer = new RingProducer(bus, g.desc);
  const consumer = new RingConsumer(bus, g.desc);
  const model = new RingModel(capacity, start);
  const rng = new Prng(seed);
  const verifier = new Verifier(seed, max);
  const BATCH = 6;
  const src = bus.allocRegion(BATCH * ringRecordBytes(max), 'sources');
  const dstBytes = 8 * ringRecordBytes(max);
  const dst = bus.allocRegion(dstBytes, 'destination');
  const iov = new IovList(bus, bus.allocRegion(IovList.bytes(BATCH), 'iov'), BATCH);
  const into = new Uint8Array(max);
  const report: RunReport = { wraps: 0, records: 0, fulls: 0, empties: 0, nospaces: 0 };
  let nextPush = 0;
  let published = 0;

  const check = (what: string, u8: Uint8Array, at: number, len: number, tag: number) => {
    const err = verifier.check(u8, at, len, tag);
    if (err) throw new Error(`${what}: ${err}`);
  };
  const payloadAt = (ringIndex: number) => data + (ringIndex & mask) + 8;

  function produce(): void {
    const method = rng.below(4);
    if (method === 3) {
      const k = rng.range(1, BATCH);
      iov.clear();
      const before = model.tail;
      let placed = 0;
      let full = false;
      for (let j = 0; j < k; j++) {
        const i = nextPush + j;
        const len = recordLen(seed, i, max);
        const at = src + j * ringRecordBytes(max);
        fillPayload(seed, i, bus.u8, at, len);
        iov.add(at, len, recordTag(seed, i));
        if (!full && model.reserveRecord(len, i) >= 0) placed++;
        else full = true;
      }
      model.commit();
      published += (model.tail - before) >>> 0;
      expect(producer.pushBatch(iov.offset, iov.length)).toBe(placed);
      if (placed < k) report.fulls++;
      nextPush += placed;
      return;
    }
    const i = nextPush;
    const len = recordLen(seed, i, max);
    const tag = recordTag(seed, i);
    const before = model.tail;
    const at = model.reserveRecord(len, i); // a FULL reserve may publish the pad alone
    const pending = (model.reserve - model.tail) >>> 0;
    model.commit();
    published += (model.tail - before) >>> 0;
    let st: number;
    if (method === 0) {
      fillPayload(seed, i, into, 0, len);
      st = producer.push(into.subarray(0, len), tag);
    } else if (method === 1) {
      st = producer.reserve(len, tag);
      if (st >= 0) {
        expect(st).toBe(payloadAt(at));
        fillPayload(seed, i, bus.u8, st, len);
        expect(producer.commit()).toBe(pending);
        st = 0;
      }
    } else {
      fillPayload(seed, i, bus.u8, src, len);
      st = producer.pushFrom(src, len, tag);
    }
    if (at < 0) { expect(st).toBe(Status.FULL); report.fulls++; return; }
    expect(st).toBe(0);
    nextPush++;
  }

  function consume(): void {
    const method = rng.below(4);
    if (method === 0 || method === 2) {
      const room = rng.chance(0.1) ? rng.below(max + 1) : max;
      const want = model.pop(room);
      const st = method === 0 ? consumer.pop(into.subarray(0, room)) : consumer.popTo(dst, room);
      if (want === 'nospace') { expect(st).toBe(Status.NOSPACE); report.nospaces++; return; }
      if (want === null) { expect(st).toBe(Status.EMPTY); report.empties++; return; }
      expect(st).toBe(want.len);
      if (method === 0) check('pop', into, 0, st, consumer.tag);
      else check('popTo', bus.u8, dst, st, consumer.tag);
      report.records++;
    } else if (method === 1) {
      const k = rng.range(1, 3);
      for (let j = 0; j < k; j++) {
        const want = model.peek();
        const st = consumer.peek();
        if (want === null) { expect(st).toBe(Status.EMPTY); report.empties++; break; }
        expect(st).toBe(want.len);
        expect(consumer.peekOffset).toBe(payloadAt(want.at));
        check('peek', bus.u8, consumer.peekOffset, st, consumer.tag);
        report.records++;
      }
      // Sometimes keep the peeked records a while: a later pop releases them too.
      if (rng.chance(0.7)) expect(consumer.release()).toBe(model.release());
    } else {
      const room = rng.below(dstBytes + 1);
      const maxN = rng.range(1, 8);
      const want = model.popBatch(room, maxN);
      const st = consumer.popBatch(dst, room, maxN);
      if (want === 'nospace') { expect(st).toBe(Status.NOSPACE); report.nospaces++; return; }
      expect(st).toBe(want.length);
      if (st === 0) report.empties++;
      const end = forEachPacked(bus, dst, st, (payload, len, tag) => check('popBatch', bus.u8, payload, len, tag));
      expect(end - dst).toBeLessThanOrEqual(room);
      report.records += st;
    }
  }

  let step = 0;
  while (published < opts.wraps * capacity) {
    // Alternate phases that favour the producer (ring mostly full) and the consumer
    // (mostly empty), so both edges are met often.
    const produceBias = Math.floor(step / 400) % 2 === 0 ? 0.7 : 0.3;
    if (rng.chance(produceBias)) produce(); else consume();
    expect(consumer.used()).toBe(model.used);
    if (++step % 256 === 0) g.check(`at step ${step}`);
    if (step > 2_000_000) throw new Error('did not make the wanted trips');
  }
  g.check('at the end');
  expect(producer.faulted).toBe(false);
  expect(consumer.faulted).toBe(false);
  report.wraps = Math.floor(published / capacity);
  return report;
}

describe('wrap-around with random sizes', () => {
  it.each([64, 256, 4096])('ring of %i bytes: thousands of trips, model-checked and byte-exact', (capacity) => {
    const r = runRandom({ capacity, seed: 0xc0ffee ^ capacity, wraps: 2500 });
    expect(r.wraps).toBeGreaterThanOrEqual(2500);
    expect(r.records).toBeGreaterThan(1000);
    // Both edges and the too-small destination were met, many times.
    expect(r.fulls).toBeGreaterThan(100);
    expect(r.empties).toBeGreaterThan(100);
    expect(r.nospaces).toBeGreaterThan(10);
  });

  it('free-running indices crossing 2^32 change nothing', () => {
    const capacity = 256;
    const r = runRandom({ capacity, seed: 0xbadc0de, wraps: 200, start: 0x100000000 - 37 * capacity - 40 });
    expect(r.wraps).toBeGreaterThanOrEqual(200);
    expect(r.records).toBeGreaterThan(100);
  });
});

describe('full and empty edges', () => {
  function fresh(capacity: number) {
    const bus = BusMemory.create({ bytes: 65536 });
    const desc = createRing(bus, capacity);
    return { bus, desc, producer: new RingProducer(bus, desc), consumer: new RingConsumer(bus, desc) };
  }
  const rec = (n: number, fill: number) => new Uint8Array(n).fill(fill);

  it('an empty ring: every consumer op reports empty and changes nothing', () => {
    const { bus, consumer, desc } = fresh(256);
    const dst = bus.allocRegion(256);
    expect(consumer.pop(new Uint8Array(64))).toBe(Status.EMPTY);
    expect(consumer.peek()).toBe(Status.EMPTY);
    expect(consumer.popTo(dst, 256)).toBe(Status.EMPTY);
    expect(consumer.popBatch(dst, 256)).toBe(0);
    expect(consumer.skip()).toBe(0);
    expect(consumer.release()).toBe(0);
    expect(consumer.used()).toBe(0);
    expect(consumer.faulted).toBe(false);
    // Still a working ring afterwards.
    const p = new RingProducer(bus, desc);
    expect(p.push(rec(5, 9), 3)).toBe(0);
    const out = new Uint8Array(8);
    expect(consumer.pop(out)).toBe(5);
    expect(consumer.tag).toBe(3);
    expect([...out.subarray(0, 5)]).toEqual([9, 9, 9, 9, 9]);
  });

  it('records that divide the ring: fill to FULL, then exactly one more fits per release', () => {
    const { producer, consumer } = fresh(256);
    // 24-byte payloads take 32 bytes: exactly 8 fit.
    let n = 0;
    while (producer.push(rec(24, n), n) === 0) n++;
    expect(n).toBe(8);
    expect(producer.used()).toBe(256);
    expect(producer.push(rec(0, 0))).toBe(Status.FULL); // not even an empty record
    const out = new Uint8Array(24);
    for (let round = 0; round < 20; round++) {
      expect(consumer.pop(out)).toBe(24);
      expect(consumer.tag).toBe(round);
      expect(out[0]).toBe(round & 0xff);
      expect(producer.push(rec(24, n), n)).toBe(0);
      n++;
      expect(producer.push(rec(0, 0))).toBe(Status.FULL);
      expect(producer.used()).toBe(256);
    }
    for (let i = 20; i < n; i++) {
      expect(consumer.pop(out)).toBe(24);
      expect(consumer.tag).toBe(i);
    }
    expect(consumer.pop(out)).toBe(Status.EMPTY);
    expect(consumer.used()).toBe(0);
  });

  it('records that do not divide the ring: the pad at the end is published and skipped', () => {
    const { producer, consumer } = fresh(256);
    // 40-byte payloads take 48 bytes: 5 fit (240), leaving 16 at the end.
    for (let i = 0; i < 5; i++) expect(producer.push(rec(40, i), i)).toBe(0);
    expect(producer.used()).toBe(240);
    // The sixth does not fit before the end; with nothing pending the producer
    // publishes the 16-byte pad alone, so the ring is now completely used.
    expect(producer.push(rec(40, 5), 5)).toBe(Status.FULL);
    expect(producer.used()).toBe(256);
    const out = new Uint8Array(40);
    expect(consumer.pop(out)).toBe(40);
    expect(consumer.tag).toBe(0);
    // 48 bytes free at position 0: exactly one more record.
    expect(producer.push(rec(40, 5), 5)).toBe(0);
    expect(producer.push(rec(0, 0))).toBe(Status.FULL);
    for (let i = 1; i <= 5; i++) {
      expect(consumer.pop(out)).toBe(40);
      expect(consumer.tag).toBe(i);
      expect(out[39]).toBe(i);
    }
    expect(consumer.pop(out)).toBe(Status.EMPTY);
    expect(consumer.used()).toBe(0);
  });

  it('a maximal record after a partial fill waits for the consumer to pass the pad', () => {
    const capacity = 128;
    const { producer, consumer } = fresh(capacity);
    const max = ringMaxPayload(capacity);
    const out = new Uint8Array(max);
    expect(producer.push(rec(8, 1), 1)).toBe(0);
    expect(consumer.pop(out)).toBe(8); // ring empty, write position 16
    const big = rec(max, 0xab);
    // The ring is empty but a record of the whole ring can only start at 0: the
    // producer publishes the pad and reports FULL.
    expect(producer.push(big, 2)).toBe(Status.FULL);
    expect(consumer.used()).toBe(capacity - 16);
    expect(producer.push(big, 2)).toBe(Status.FULL); // still waiting for the consumer
    // The consumer finds only the pad: it passes it, publishes that, and reports EMPTY.
    expect(consumer.pop(out)).toBe(Status.EMPTY);
    expect(consumer.used()).toBe(0);
    expect(producer.push(big, 2)).toBe(0);
    expect(consumer.used()).toBe(capacity);
    out.fill(0);
    expect(consumer.pop(out)).toBe(max);
    expect(consumer.tag).toBe(2);
    expect(out.every((b) => b === 0xab)).toBe(true);
  });

  it('a pad of only a header (8 bytes) is skipped too', () => {
    const { producer, consumer } = fresh(64);
    const out = new Uint8Array(56);
    expect(producer.push(rec(48, 1), 1)).toBe(0); // 56 bytes, position 56 next
    expect(consumer.pop(out)).toBe(48);
    expect(producer.push(rec(1, 2), 2)).toBe(0); // 16 bytes: an 8-byte pad, then at 0
    expect(consumer.used()).toBe(8 + 16);
    expect(consumer.peek()).toBe(1);
    expect(consumer.tag).toBe(2);
    expect(consumer.release()).toBe(24);
    expect(consumer.used()).toBe(0);
  });

  it('a batch stops at the first record that does not fit and publishes those before it', () => {
    const { bus, producer, consumer } = fresh(128);
    const src = bus.allocRegion(64);
    bus.u8.fill(7, src, src + 64);
    const iov = new IovList(bus, bus.allocRegion(IovList.bytes(8)), 8);
    for (let i = 0; i < 8; i++) iov.add(src, 24, i); // 32 bytes each: 4 fit
    expect(producer.pushBatch(iov.offset, 8)).toBe(4);
    expect(producer.used()).toBe(128);
    expect(producer.pushBatch(iov.offset, 8)).toBe(0); // full: a count, not a status
    expect(consumer.skip(1)).toBe(1);
    expect(producer.pushBatch(iov.offset + IovList.bytes(4), 4)).toBe(1);
    const dst = bus.allocRegion(256);
    expect(consumer.popBatch(dst, 256)).toBe(4);
    const tags: number[] = [];
    forEachPacked(bus, dst, 4, (_p, len, tag) => { expect(len).toBe(24); tags.push(tag); });
    expect(tags).toEqual([1, 2, 3, 4]);
  });
});

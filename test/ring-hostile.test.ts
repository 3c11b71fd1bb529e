// A hostile writer: a real worker thread scribbles seeded garbage into one ring's header
// lines and record area while the main thread keeps using that ring through the API.
// It must end with the ring faulted (every op returns Status.FAULT), with no exception
// out of the API, every offset the API hands out inside the ring's data area, the
// canaries around the region untouched, and a second ring in the same memory passing a
// verified sequence during and after.
import { describe, it, expect } from 'vitest';
import { Worker } from 'node:worker_threads';
import {
  BusMemory, RingProducer, RingConsumer, IovList, Status, FaultReason,
  forEachPacked, formatRing, ringRecordBytes, ringRegionBytes,
} from '../dist/src/internal.js';
import { Prng, Sequence, Verifier } from './fixtures/prng.mjs';
import { guardedRing, guardedBuffer } from './fixtures/canary.mjs';

const HOSTILE = new URL('./fixtures/hostile-worker.mjs', import.meta.url);
const OK_STATUSES = new Set<number>([Status.EMPTY, Status.FULL, Status.FAULT, Status.NOSPACE]);

type Ends = 'both' | 'producer' | 'consumer';
type Garbage = 'both' | 'header' | 'records';

interface Case { ends: Ends; garbage: Garbage; capacity: number; seed: number }

const CASES: Case[] = [
  { ends: 'both', garbage: 'both', capacity: 4096, seed: 11 },
  { ends: 'both', garbage: 'records', capacity: 1024, seed: 12 },
  { ends: 'both', garbage: 'header', capacity: 256, seed: 13 },
  { ends: 'producer', garbage: 'header', capacity: 1024, seed: 14 },
  { ends: 'consumer', garbage: 'both', capacity: 1024, seed: 15 },
];

// Soak: HOSTILE_SEEDS=100 npx vitest run test/ring-hostile.test.ts adds that many seeded cases.
const EXTRA = Number(process.env.HOSTILE_SEEDS ?? 0);
for (let i = 0; i < EXTRA; i++) {
  const ends = (['both', 'producer', 'consumer'] as const)[i % 3]!;
  const garbage = (['both', 'header', 'records'] as const)[Math.floor(i / 3) % 3]!;
  if (ends !== 'both' && garbage === 'records') continue;
  CASES.push({ ends, garbage, capacity: [64, 256, 1024, 4096][i % 4]!, seed: 1000 + i });
}
describe('hostile writer', () => {
  it.each(CASES)('garbage in $garbage while main runs $ends end(s) (capacity $capacity)', async ({ ends, garbage, capacity, seed }) => {
    const bus = BusMemory.create({ bytes: 1 << 18 });
    const victim = guardedRing(bus, capacity, 21);
    const witness = guardedRing(bus, 512, 23);
    const control = bus.allocRegion(64, 'control'); // word 0: stop
    const max = capacity - 8;
    const dataStart = victim.desc.offset + ringRegionBytes(capacity) - capacity;
    const dataEnd = dataStart + capacity;

    const producer = ends !== 'consumer' ? new RingProducer(bus, victim.desc) : null;
    const consumer = ends !== 'producer' ? new RingConsumer(bus, victim.desc) : null;
    const wp = new RingProducer(bus, witness.desc);
    const wc = new RingConsumer(bus, witness.desc);
    const wseq = new Sequence(seed, 200);
    const wver = new Verifier(seed, 200);
    const wbuf = new Uint8Array(200);
    const witnessStep = () => {
      wseq.next();
      expect(wp.push(wseq.bytes(), wseq.tag)).toBe(0);
      expect(wc.pop(wbuf)).toBe(wseq.len);
      const err = wver.check(wbuf, 0, wseq.len, wc.tag);
      if (err) throw new Error(`witness ring: ${err}`);
    };

    const src = bus.allocRegion(4 * ringRecordBytes(max), 'sources');
    new Prng(seed).fill(bus.u8, src, 4 * ringRecordBytes(max));
    const iov = new IovList(bus, bus.allocRegion(IovList.bytes(4)), 4);
    const dst = guardedBuffer(bus, 4 * ringRecordBytes(max), 31);
    const into = new Uint8Array(max);

    const worker = new Worker(HOSTILE, {
      workerData: {
        memory: bus.memory, offset: victim.desc.offset, headerBytes: ringRegionBytes(capacity) - capacity,
        capacity, control, seed: seed * 7919, mode: garbage,
      },
    });
    const report = new Promise<{ writes: number }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });

    const rng = new Prng(seed);
    const inData = (at: number, len: number, what: string) => {
      if (!(at >= dataStart + 8 && at + len <= dataEnd)) {
        throw new Error(`${what} handed out [${at}, ${at}+${len}) outside the data area [${dataStart}, ${dataEnd})`);
      }
    };
    const status = (st: number, what: string) => {
      if (st < 0 && !OK_STATUSES.has(st)) throw new Error(`${what} returned ${st}`);
      return st;
    };

    function producerStep(p: RingProducer): void {
      const len = rng.below(max + 1) >> rng.below(6); // mostly short, sometimes up to max
      switch (rng.below(4)) {
        case 0: status(p.push(bus.u8.subarray(src, src + len), rng.below(1000)), 'push'); break;
        case 1: {
          const n = rng.range(1, 3);
          for (let i = 0; i < n; i++) {
            const at = status(p.reserve(len, i), 'reserve');
            if (at < 0) break;
            inData(at, len, 'reserve');
            bus.u8.fill(0x5c, at, at + len);
          }
          status(p.commit(), 'commit');
          break;
        }
        case 2: status(p.pushFrom(src, len, 7), 'pushFrom'); break;
        default: {
          iov.clear();
          for (let i = 0; i < 4; i++) iov.add(src + i * ringRecordBytes(max), rng.below(max + 1) >> rng.below(6), i);
          const n = status(p.pushBatch(iov.offset, iov.length), 'pushBatch');
          if (n > 4) throw new Error(`pushBatch pushed ${n} of 4`);
        }
      }
    }

    function consumerStep(c: RingConsumer): void {
      switch (rng.below(5)) {
        case 0: {
          const room = rng.chance(0.2) ? rng.below(max + 1) : max;
          const len = status(c.pop(into.subarray(0, room)), 'pop');
          if (len > room) throw new Error(`pop returned ${len} for a ${room}-byte destination`);
          break;
        }
        case 1: {
          for (let i = rng.range(1, 3); i > 0; i--) {
            const len = status(c.peek(), 'peek');
            if (len < 0) break;
            inData(c.peekOffset, len, 'peek');
          }
          if (rng.chance(0.7)) status(c.release(), 'release');
          break;
        }
        case 2: {
          const room = rng.below(max + 1);
          const len = status(c.popTo(dst.offset, room), 'popTo');
          if (len > room) throw new Error(`popTo returned ${len} for ${room} bytes`);
          break;
        }
        case 3: {
          const room = rng.below(dst.bytes + 1);
          const n = status(c.popBatch(dst.offset, room, rng.range(1, 8)), 'popBatch');
          if (n > 0) {
            const end = forEachPacked(bus, dst.offset, n, (_p, len) => { if (len > max) throw new Error(`popBatch packed a ${len}-byte record`); });
            if (end - dst.offset > room) throw new Error(`popBatch wrote ${end - dst.offset} bytes into ${room}`);
          }
          break;
        }
        default: status(c.skip(rng.range(1, 4)), 'skip');
      }
    }

    const allFaulted = () => (!producer || producer.faulted) && (!consumer || consumer.faulted);
    const deadline = Date.now() + 60_000; // a guard against a hang, not a measurement
    let steps = 0;
    try {
      while (!allFaulted()) {
        if (producer && rng.chance(0.5)) producerStep(producer);
        if (consumer && rng.chance(0.5)) consumerStep(consumer);
        witnessStep();
        if (++steps % 64 === 0) {
          victim.check(`at step ${steps}`);
          witness.check(`at step ${steps}`);
          dst.check(`at step ${steps}`);
          if (Date.now() > deadline) throw new Error(`no fault after ${steps} steps`);
        }
        // Let the hostile thread run when both share one vCPU.
        if (steps % 4096 === 0) await new Promise((r) => setImmediate(r));
      }
    } finally {
      Atomics.store(bus.i32, control >> 2, 1); // stop the hostile writer
    }
    const { writes } = await report;
    expect(writes).toBeGreaterThan(0);
    expect(steps).toBeGreaterThan(0);

    // The ring is faulted for good on every end, and every op says so without throwing.
    for (const end of [producer, consumer]) {
      if (!end) continue;
      expect(end.faulted).toBe(true);
      expect(end.faultCode).not.toBe(FaultReason.NONE);
      expect(end.fault).not.toBe('none');
      expect(end.used()).toBe(0);
    }
    if (producer) {
      expect(producer.push(new Uint8Array(4))).toBe(Status.FAULT);
      expect(producer.reserve(max + 100)).toBe(Status.FAULT); // even a record that could never fit
      expect(producer.pushFrom(src, 4)).toBe(Status.FAULT);
      expect(producer.pushBatch(iov.offset, iov.length)).toBe(Status.FAULT);
      expect(producer.commit()).toBe(Status.FAULT);
    }
    if (consumer) {
      expect(consumer.pop(into)).toBe(Status.FAULT);
      expect(consumer.popTo(dst.offset, max)).toBe(Status.FAULT);
      expect(consumer.popBatch(dst.offset, dst.bytes)).toBe(Status.FAULT);
      expect(consumer.peek()).toBe(Status.FAULT);
      expect(consumer.release()).toBe(Status.FAULT);
      expect(consumer.skip()).toBe(Status.FAULT);
    }
    // Nothing outside the victim was touched, and the witness ring carries on.
    victim.check('after the fault');
    // The host can recover the ring: re-format it and clear the ends' sticky fault.
    formatRing(bus, victim.desc);
    producer?.clearFault();
    consumer?.clearFault();
    const p2 = producer ?? new RingProducer(bus, victim.desc);
    const c2 = consumer ?? new RingConsumer(bus, victim.desc);
    expect(p2.push(new Uint8Array(max).fill(0x42), 5)).toBe(0);
    expect(c2.pop(into)).toBe(max);
    expect(c2.tag).toBe(5);
    expect(into.every((x) => x === 0x42)).toBe(true);
    expect(c2.pop(into)).toBe(Status.EMPTY);
    expect(p2.faulted || c2.faulted).toBe(false);
    victim.check('after recovery');
    dst.check('after the fault');
    for (let i = 0; i < 2000; i++) witnessStep();
    witness.check('at the end');
    expect(wp.faulted || wc.faulted).toBe(false);
    expect(wver.count).toBe(steps + 2000);
  });
});

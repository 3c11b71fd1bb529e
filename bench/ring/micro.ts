/**
 * Single-thread micro cases, timed by benchmark.js:
 * - `memcpy` rows (case `oneway-SIZEB`): `Uint8Array.prototype.set` of one record's
 *   bytes between two 8-aligned places of a shared buffer, the physical reference for
 *   the one-way rows of the same size.
 * - `push-pop-SIZEB` rows: one producer and one consumer on the same thread, so the
 *   cost of the ring operations themselves shows without cross-core traffic.
 */
import Benchmark from 'benchmark';
import { RingBuffer } from 'ringbuf.js';
import {
  BusMemory, createRing, RingProducer, RingConsumer, IovList, ringRecordBytes,
} from '../../src/internal.js';
import { JsRingProducer, JsRingConsumer, jsRingBytes } from '../baselines/js-ring.js';
import type { Row } from '../harness/types.js';
import { batchSize, ringCapacity } from './config.js';

interface MicroCase { case: string; impl: string; bytes: number; opsPerCall: number; fn: () => void; note?: string }

function runSuite(cases: MicroCase[], maxTime: number, onDone: (c: MicroCase, hz: number) => void): void {
  for (const c of cases) {
    const b = new Benchmark(c.case + ' ' + c.impl, c.fn, { maxTime, minSamples: maxTime < 0.1 ? 2 : 5, initCount: 1 });
    b.run({ async: false });
    if (b.error) throw new Error(`micro ${c.case} ${c.impl}: ${String(b.error)}`);
    onDone(c, b.hz * c.opsPerCall);
  }
}

/** Builds the cases for one record size. */
function casesFor(size: number): MicroCase[] {
  const cap = ringCapacity(size);
  const B = batchSize(size);
  const out: MicroCase[] = [];

  // memcpy reference: two places in one shared buffer, like a ring copy.
  const sab = new SharedArrayBuffer(2 * size + 128);
  const srcView = new Uint8Array(sab, 0, size).fill(1);
  const dstView = new Uint8Array(sab, (size + 63) & ~63, size);
  out.push({ case: `oneway-${size}B`, impl: 'memcpy', bytes: size, opsPerCall: 1, fn: () => { dstView.set(srcView); }, note: 'single thread TypedArray.set' });

  // vbus: pushFrom + popTo, and a batch of B through pushBatch + popBatch.
  const bus = BusMemory.create({ bytes: cap * 2 + (4 << 20) });
  const ring = createRing(bus, cap);
  const prod = new RingProducer(bus, ring);
  const cons = new RingConsumer(bus, ring);
  const slot = (size + 7) & ~7;
  const src = bus.allocRegion(slot * B, 'src');
  const dstBytes = Math.max(1 << 16, B * ringRecordBytes(size)) + 64;
  const dst = bus.allocRegion(dstBytes, 'dst');
  const iovOff = bus.allocRegion(IovList.bytes(B), 'iov');
  const iov = new IovList(bus, iovOff, B);
  for (let k = 0; k < B; k++) iov.add(src + k * slot, size);
  out.push({ case: `push-pop-${size}B`, impl: 'vbus', bytes: size, opsPerCall: 1, fn: () => { prod.pushFrom(src, size); cons.popTo(dst, dstBytes); }, note: 'pushFrom + popTo' });
  out.push({ case: `push-pop-${size}B`, impl: 'vbus-batched', bytes: size, opsPerCall: B, fn: () => { prod.pushBatch(iovOff, B); cons.popBatch(dst, dstBytes); }, note: `pushBatch + popBatch, ${B} per call` });
  const template = new Uint8Array(size).fill(3);
  const u8 = bus.u8;
  out.push({
    case: `push-pop-${size}B`, impl: 'vbus-reserve', bytes: size, opsPerCall: B,
    fn: () => {
      for (let k = 0; k < B; k++) u8.set(template, prod.reserve(size));
      prod.commit();
      for (let k = 0; k < B; k++) cons.peek();
      cons.release();
    },
    note: `${B} x (reserve + set) + commit, ${B} x peek + release`,
  });

  // js-ring
  const jsab = new SharedArrayBuffer(jsRingBytes(cap));
  const jp = new JsRingProducer(jsab, 0, cap);
  const jc = new JsRingConsumer(jsab, 0, cap);
  const jmsg = new Uint8Array(size).fill(2);
  const jinto = new Uint8Array(size);
  out.push({ case: `push-pop-${size}B`, impl: 'js-ring', bytes: size, opsPerCall: 1, fn: () => { jp.push(jmsg); jc.pop(jinto); } });

  // ringbuf.js
  const rsab = RingBuffer.getStorageForCapacity(cap, Uint8Array as never);
  const rb = new RingBuffer(rsab, Uint8Array as never);
  const rmsg = new Uint8Array(size).fill(4);
  const rinto = new Uint8Array(size);
  out.push({ case: `push-pop-${size}B`, impl: 'ringbuf.js', bytes: size, opsPerCall: 1, fn: () => { rb.push(rmsg, size); rb.pop(rinto, size); } });
  return out;
}

/** Runs every micro case for `sizes`; returns one row per case. */
export function runMicro(sizes: readonly number[], maxTime: number, tick: (label: string) => void, want: (c: string, impl: string) => boolean): Row[] {
  const rows: Row[] = [];
  for (const size of sizes) {
    const cases = casesFor(size).filter((c) => want(c.case, c.impl));
    runSuite(cases, maxTime, (c, hz) => {
      rows.push({
        case: c.case, impl: c.impl, bytes: c.bytes, opsPerSec: hz, mbPerSec: (hz * c.bytes) / 1e6,
        placement: 'unpinned', threads: 1, repeats: 1, ...(c.note ? { note: c.note } : {}),
      });
      tick(`${c.case} ${c.impl}`);
    });
  }
  return rows;
}

/** Number of micro cases runMicro will run for `sizes` (for progress). */
export function microCount(sizes: readonly number[]): number {
  return sizes.length * 6;
}

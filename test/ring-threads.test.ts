// Real threads: the main thread and two worker_threads over one bus memory (posted with
// the compiled core module; each worker attaches with BusMemory.attach).
//
// 1. A pipeline of a million records: main --ring A--> forwarder --ring B--> sink. Main
//    writes in place (reserve/commit, some push), the forwarder moves batches
//    (popBatch -> pushBatch), the sink verifies in place (peek/release) byte-exact and
//    returns a checksum that must equal the one main computed while producing.
//    Every side waits through shm-signals: workers park with waitSync, main with
//    waitAsync (it never blocks its event loop).
// 2. Ping-pong: one record at a time, so the waiting side parks and is woken thousands
//    of times; a lost wake-up would show as a timed-out wait (counted, must be 0).
import { describe, it, expect } from 'vitest';
import { Worker } from 'node:worker_threads';
import {
  BusMemory, RingProducer, RingConsumer, IovList, Notifier, Waiter, Status,
  createSignal, readSignalStats, ringRecordBytes,
} from '../dist/src/internal.js';
import type { SpinPolicy } from '../dist/src/internal.js';
import { Sequence, Verifier, checksumRecord } from './fixtures/prng.mjs';
import { guardedRing } from './fixtures/canary.mjs';

const WORKER = new URL('./fixtures/ring-worker.mjs', import.meta.url);
/** A wait this long means a lost wake-up: every wake-up here should take microseconds. */
const WAIT_MS = 20_000;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Report = Record<string, any>;

/** Starts a ring worker; resolves with the one message it posts when done. */
function runWorker(data: Record<string, unknown>): Promise<Report> {
  const w = new Worker(WORKER, { workerData: { waitMs: WAIT_MS, ...data } });
  return new Promise((resolve, reject) => {
    w.once('message', (m: Report) => { resolve(m); void w.terminate(); });
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`worker ${String(data.role)} exited with code ${code} before reporting`)));
  });
}

/** Main-thread wait: enable, re-check with `attempt`, park asynchronously, repeat. */
async function waitAsyncUntil<T>(waiter: Waiter, attempt: () => T | undefined, counters: { timeouts: number }): Promise<T> {
  waiter.enable();
  let r: T | undefined;
  while ((r = attempt()) === undefined) {
    if ((await waiter.waitAsync(WAIT_MS)) === 'timed-out') counters.timeouts++;
    waiter.disable(); // consume the wake-up ...
    waiter.enable(); // ... and ask again before the re-check
  }
  waiter.disable();
  return r;
}

describe('cross-thread', () => {
  it('a million records main -> worker -> worker, byte-exact with a checksum', async () => {
    const N = 1_000_000;
    const SEED = 0x1d1e5;
    const MAX_LEN = 128;
    const BATCH = 64;
    const bus = BusMemory.create({ bytes: 1 << 20 });
    const a = guardedRing(bus, 1 << 12, 3); // small: main outruns the pipeline and must wait for room
    const b = guardedRing(bus, 1 << 13, 5);
    const aData = createSignal(bus);
    const aSpace = createSignal(bus);
    const bData = createSignal(bus);
    const bSpace = createSignal(bus);
    const scratchBytes = BATCH * ringRecordBytes(MAX_LEN);
    const common = { memory: bus.memory, module: bus.module, count: N, seed: SEED, maxLen: MAX_LEN };
    const sink = runWorker({ ...common, role: 'sink', in: b.desc, inData: bData, inSpace: bSpace });
    const forward = runWorker({
      ...common, role: 'forward', in: a.desc, out: b.desc, inData: aData, inSpace: aSpace, outData: bData, outSpace: bSpace,
      scratch: bus.allocRegion(scratchBytes), scratchBytes, iov: bus.allocRegion(IovList.bytes(BATCH)), iovEntries: BATCH,
    });

    const producer = new RingProducer(bus, a.desc);
    const data = new Notifier(bus, aData);
    const space = new Waiter(bus, aSpace);
    const seq = new Sequence(SEED, MAX_LEN);
    const counters = { timeouts: 0, fullWaits: 0, raises: 0 };
    let checksum = 0;
    const publish = () => { if (producer.commit() > 0) { data.raise(); counters.raises++; } };
    for (let i = 0; i < N; i++) {
      const len = seq.next();
      const tag = seq.tag;
      if (i % 8 === 7) {
        // Some records are copied in from a JS array (push publishes pending ones too).
        const bytes = seq.bytes();
        if (producer.push(bytes, tag) === Status.FULL) {
          publish();
          counters.fullWaits++;
          const st = await waitAsyncUntil(space, () => { const s = producer.push(bytes, tag); return s === Status.FULL ? undefined : s; }, counters);
          expect(st).toBe(0);
        }
        data.raise();
        counters.raises++;
        checksum = checksumRecord(checksum, bytes, 0, len, tag);
        continue;
      }
      let at = producer.reserve(len, tag);
      if (at === Status.FULL) {
        publish();
        counters.fullWaits++;
        at = await waitAsyncUntil(space, () => { const r = producer.reserve(len, tag); return r === Status.FULL ? undefined : r; }, counters);
      }
      if (at < 0) throw new Error(`reserve returned ${at} (${producer.fault})`);
      seq.fill(bus.u8, at);
      checksum = checksumRecord(checksum, bus.u8, at, len, tag);
      if ((i & 15) === 15) publish();
    }
    publish();

    const [f, s] = await Promise.all([forward, sink]);
    expect(f.error).toBeUndefined();
    expect(s.error).toBeUndefined();
    expect(f.forwarded).toBe(N);
    expect(s.count).toBe(N);
    expect(s.checksum).toBe(checksum);
    expect(counters.timeouts + f.timeouts + s.timeouts).toBe(0);
    expect(producer.faulted).toBe(false);
    // Nothing left behind, nothing written outside either ring.
    expect(producer.used()).toBe(0);
    expect(new RingConsumer(bus, b.desc).used()).toBe(0);
    a.check();
    b.check();
    // Suppression did its job: the forwarder was told about new data far fewer times
    // than main signalled (a busy consumer takes many records per wake-up).
    const st = readSignalStats(bus, aData);
    expect(st.raised + st.suppressed).toBe(counters.raises);
    expect(st.raised).toBeLessThan(counters.raises);
    expect(counters.fullWaits).toBeGreaterThan(0); // main outran the pipeline and waited for room
  });

  it.each<[string, SpinPolicy]>([
    ['always park (fixed 0)', { fixed: 0 }],
    ['adaptive spin', {}],
  ])('ping-pong, 3000 round trips, worker waits with %s: no lost wake-ups', async (_name, policy) => {
    const N = 3000;
    const SEED = 0xec40;
    const MAX_LEN = 256;
    const bus = BusMemory.create({ bytes: 65536 });
    const out = guardedRing(bus, 1024, 9);
    const back = guardedRing(bus, 1024, 11);
    const outData = createSignal(bus);
    const backData = createSignal(bus);
    const echo = runWorker({
      memory: bus.memory, module: bus.module, role: 'echo', count: N, policy,
      in: out.desc, out: back.desc, inData: outData, outData: backData,
    });
    const producer = new RingProducer(bus, out.desc);
    const consumer = new RingConsumer(bus, back.desc);
    const notify = new Notifier(bus, outData);
    const waiter = new Waiter(bus, backData);
    const seq = new Sequence(SEED, MAX_LEN);
    const verifier = new Verifier(SEED, MAX_LEN);
    const buf = new Uint8Array(MAX_LEN);
    const counters = { timeouts: 0 };
    for (let i = 0; i < N; i++) {
      seq.next();
      expect(producer.push(seq.bytes(), seq.tag)).toBe(0);
      notify.raise();
      const len = await waitAsyncUntil(waiter, () => { const l = consumer.pop(buf); return l === Status.EMPTY ? undefined : l; }, counters);
      const err = verifier.check(buf, 0, len, consumer.tag);
      if (err) throw new Error(err);
    }
    const e = await echo;
    expect(e.error).toBeUndefined();
    expect(e.echoed).toBe(N);
    expect(verifier.count).toBe(N);
    expect(counters.timeouts + e.timeouts).toBe(0);
    if (policy.fixed === 0) expect(e.spinHits).toBe(0); // a fixed-0 budget never spins
    expect(e.parks + e.spinHits).toBeGreaterThan(0);
    const st = readSignalStats(bus, outData);
    expect(st.raised + st.suppressed).toBe(N);
    out.check();
    back.check();
  });
});

/**
 * `npm start`: the vbus core at work. The main thread streams records through two worker
 * threads and back (main -> A -> B -> main) over three rings in one bus memory, each
 * announced by a shm-signal. Every record that returns is checked byte for byte. At the
 * end it prints what it measured, including how many wake-ups the signals raised and how
 * many they suppressed because the receiver was already busy.
 *
 *   npm start -- [--duration SECONDS] [--quick]
 */
import {
  BusMemory, createRing, createSignal, RingProducer, RingConsumer, Notifier, Waiter, Status,
  vbusError,
} from '../index.js';
import { readSignalStats } from '../core/signal.js';
import { serveAsync } from '../core/serve-loop.js';
import { spawnNodeWorker } from '../platform/node-worker.js';
import type { ForwarderData, ForwarderReport } from './forwarder.js';
import { TAG_DATA, TAG_END, checkRecord, recordSize, writeRecord } from './records.js';

interface DemoOptions { durationSec: number; seed: number }

function parseOptions(argv: readonly string[]): DemoOptions {
  let durationSec = 3;
  let seed = 1;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') durationSec = 0.5;
    else if (a === '--duration' || a === '--seed') {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0 || v > 3600) throw vbusError('EINVAL', `${a} ${argv[i]} must be a number of seconds between 0 and 3600`, { [a]: argv[i] });
      if (a === '--duration') durationSec = v; else seed = v >>> 0;
    } else if (a === '--help' || a === '-h') {
      console.log('usage: npm start -- [--duration SECONDS] [--quick] [--seed N]');
      process.exit(0);
    } else {
      throw vbusError('EINVAL', `unknown option ${a} (expected --duration SECONDS, --quick or --seed N)`, { option: a });
    }
  }
  return { durationSec, seed };
}

const RING_BYTES = 1 << 18;
const BATCH = 64;

function fmt(x: number): string {
  if (x >= 1e9) return (x / 1e9).toFixed(2) + ' G';
  if (x >= 1e6) return (x / 1e6).toFixed(2) + ' M';
  if (x >= 1e3) return (x / 1e3).toFixed(1) + ' k';
  return x.toFixed(0);
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  const bus = BusMemory.create({ bytes: 4 << 20 });
  const rings = [createRing(bus, RING_BYTES), createRing(bus, RING_BYTES), createRing(bus, RING_BYTES)];
  const sigs = [createSignal(bus), createSignal(bus), createSignal(bus)]; // sigs[i] announces rings[i]
  const names = ['main -> A', 'A -> B', 'B -> main'];

  const workers = ['A', 'B'].map((name, i) => {
    const data: ForwarderData = {
      name, memory: bus.memory, module: bus.module,
      input: rings[i]!, output: rings[i + 1]!, wakeSignal: sigs[i]!, raiseSignal: sigs[i + 1]!,
    };
    const w = spawnNodeWorker(new URL('./forwarder.js', import.meta.url), data);
    const report = new Promise<ForwarderReport>((resolve) => w.onMessage((m) => resolve(m as ForwarderReport)));
    return { w, report };
  });

  const out = new RingProducer(bus, rings[0]!);
  const back = new RingConsumer(bus, rings[2]!);
  const notifier = new Notifier(bus, sigs[0]!);
  const waiter = new Waiter(bus, sigs[2]!);
  const u32 = bus.u32;
  const u8 = bus.u8;

  let sent = 0;
  let received = 0;
  let bytes = 0;
  let checksum = 0;
  let bad = 0;
  let endSent = false;
  let endSeen = false;
  const t0 = performance.now();
  const stopAt = t0 + opts.durationSec * 1000;
  let lastStatus = t0;
  const tty = process.stderr.isTTY;

  const status = (now: number): void => {
    const secs = (now - t0) / 1000;
    const line = `[demo] ${secs.toFixed(1)} s  ${fmt(received / secs)} records/s  ${fmt(bytes / secs)}B/s  verified ${received}`;
    process.stderr.write(tty ? `\r${line}   ` : line + '\n');
  };

  /** Produces a batch in place (reserve/commit), unless the ring is full or we are done. */
  const produce = (now: number): number => {
    let produced = 0;
    if (endSent) return 0;
    if (now >= stopAt) {
      const at = out.reserve(0, TAG_END);
      if (at >= 0) { out.commit(); notifier.raise(); endSent = true; }
      return 0;
    }
    for (; produced < BATCH; produced++) {
      const size = recordSize(sent, opts.seed);
      const at = out.reserve(size, TAG_DATA);
      if (at < 0) break;
      writeRecord(u32, u8, at, opts.seed, sent, size);
      sent++;
    }
    if (produced > 0) { out.commit(); notifier.raise(); } // payloads before tail, then the signal
    return produced;
  };

  /** Drains what came back and checks it; returns the records taken. */
  const takeBack = (): number => {
    let drained = 0;
    for (;;) {
      const len = back.peek();
      if (len < 0) {
        if (len !== Status.EMPTY) throw vbusError('EIO', `return ring failed: ${back.fault}`);
        break;
      }
      if (back.tag === TAG_END) { endSeen = true; break; }
      const seq = received;
      const sum = len === recordSize(seq, opts.seed) ? checkRecord(u32, u8, back.peekOffset, opts.seed, seq, len) : -1;
      if (sum < 0) bad++; else checksum = (checksum ^ sum) >>> 0;
      received++;
      bytes += len;
      drained++;
      if ((drained & 63) === 0) back.release();
    }
    back.release();
    return drained;
  };

  // The serve loop (src/core/serve-loop.ts) on the return ring's signal. A round produces
  // a batch and drains what came back; only a round with nothing to do on either side
  // (ring full or all sent, nothing returned) ends in a park, which never blocks the
  // event loop (Atomics.waitAsync). Every 64 rounds the event loop gets a turn to print.
  await serveAsync(waiter, {
    drain: () => {
      const now = performance.now();
      const work = produce(now) + takeBack();
      if (now - lastStatus >= 250) { lastStatus = now; status(now); }
      return work;
    },
    arrived: () => back.used() > 0,
    running: () => !endSeen,
    sliceMs: 5,
    drainUntilEmpty: true,
    yieldEvery: 64,
  });
  const secs = (performance.now() - t0) / 1000;
  if (tty) process.stderr.write('\n');
  const reports = await Promise.all(workers.map((w) => w.report));
  await Promise.all(workers.map((w) => w.w.exited));

  console.log(`vbus demo: main -> worker A -> worker B -> main through 3 rings of ${RING_BYTES >> 10} KiB in one shared bus memory`);
  console.log(`  records      ${received} sent and returned in ${secs.toFixed(2)} s, ${bad === 0 ? 'all verified byte-exact' : `${bad} CORRUPT`} (checksum ${checksum.toString(16).padStart(8, '0')})`);
  console.log(`  throughput   ${fmt(received / secs)} records/s, ${fmt(bytes / secs)}B/s payload (16-1024 B records, each copied 3 times)`);
  for (let i = 0; i < 3; i++) {
    const s = readSignalStats(bus, sigs[i]!);
    const total = s.raised + s.suppressed;
    console.log(`  signal ${names[i]!.padEnd(10)} wake-ups raised ${s.raised}, suppressed ${s.suppressed} (${total ? ((100 * s.suppressed) / total).toFixed(1) : '0'}%), notify calls ${s.notifies}`);
  }
  for (const r of reports) {
    if (r.error) console.log(`  worker ${r.name}     ERROR ${r.error}`);
    else console.log(`  worker ${r.name}     forwarded ${r.records - 1} records; waits ended spinning ${r.spinHits}, parked ${r.parks}`);
  }
  console.log(`  main         waits ended spinning ${waiter.spinHits}, parked ${waiter.parks}`);
  const failed = bad > 0 || received !== sent || reports.some((r) => r.error);
  if (failed) console.log(`FAILED: sent ${sent}, returned ${received}, corrupt ${bad}`);
  return failed ? 1 : 0;
}

main().then((code) => { process.exitCode = code; }, (e: unknown) => {
  console.error(`demo: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});

/**
 * `npm run bench -- ring`: the core ring against a hand-rolled JS ring, ringbuf.js and
 * postMessage, one-way throughput and round-trip latency, in one process run.
 * See bench/README.md for what each impl means.
 */
import { BusMemory } from '../../src/index.js';
import { Peer } from '../harness/peer.js';
import { cpusFor, pinSelf, placementsFor, unpinSelf, pinningAvailable } from '../harness/pin.js';
import { median, percentile, spread } from '../harness/stats.js';
import type { BenchModule, BenchOptions, Placement, Row } from '../harness/types.js';
import { durations, ONEWAY_SIZES } from './config.js';
import { microCount, runMicro } from './micro.js';
import { OnewayBus, runOneway, type RingPeer } from './oneway.js';
import { runRtt } from './latency.js';
import { runMessageOneway } from './message.js';
import type { OnewayImpl, PeerCmd, PeerReply, RttImpl } from './protocol.js';

/** 'vbus-message': a ring on a message-transport bus, guest worker to host (bench/ring/message.ts). */
export const ONEWAY_IMPLS: ReadonlyArray<OnewayImpl | 'vbus-message'> = ['vbus', 'vbus-batched', 'vbus-reserve', 'js-ring', 'ringbuf.js', 'ringbuf.js-batch32', 'postMessage', 'vbus-message'];
export const RTT_IMPLS: readonly RttImpl[] = ['atomics-wait', 'vbus-adaptive', 'postMessage'];

/** Record count for a pilot run, by how fast each impl roughly is (a pilot only sizes the real runs). */
function pilotCount(impl: OnewayImpl | 'vbus-message', size: number): number {
  const big = size > 4096;
  if (impl === 'postMessage' || impl === 'vbus-message') return big ? 500 : 5_000;
  return big ? 2_000 : 100_000;
}

async function place(peer: RingPeer, p: Placement): Promise<void> {
  const cpus = cpusFor(p);
  if (!cpus) { unpinSelf(); await peer.call({ kind: 'unpin' }); return; }
  if (!pinSelf(cpus[0])) throw new Error(`could not pin the main thread to CPU ${cpus[0]}`);
  const r = await peer.call({ kind: 'pin', cpu: cpus[1] });
  if (!r.ok) throw new Error(`could not pin the peer worker to CPU ${cpus[1]}`);
}

async function run(opts: BenchOptions): Promise<Row[]> {
  const d = durations(opts.quick);
  const repeat = opts.quick ? 1 : opts.repeat;
  const latencyPlacements = placementsFor(opts.placement);
  // Throughput runs with the threads on different cores when it can: both sides spin.
  const tpPlacement: Placement = pinningAvailable() ? 'different-cores' : 'unpinned';
  const want = (c: string, impl: string): boolean => !opts.only || opts.only.test(`${c} ${impl}`);
  const total = microCount(ONEWAY_SIZES) + ONEWAY_SIZES.length * ONEWAY_IMPLS.length * repeat + latencyPlacements.length * RTT_IMPLS.length * repeat;
  let done = 0;
  const tick = (label: string): void => opts.progress(++done, total, label);
  const rows: Row[] = [];

  // 1. single-thread micro cases (memcpy reference, push+pop costs)
  rows.push(...runMicro(ONEWAY_SIZES, d.microMaxTime, tick, want));

  const peer: RingPeer = new Peer<PeerCmd, PeerReply>(new URL('../workers/ring-peer.js', import.meta.url));
  try {
    // 2. one-way throughput
    await place(peer, tpPlacement);
    const ob = new OnewayBus();
    for (const size of ONEWAY_SIZES) {
      for (const impl of ONEWAY_IMPLS) {
        if (!want(`oneway-${size}B`, impl)) { done += repeat; continue; }
        let count = d.quickCount;
        if (!opts.quick) {
          // Pilot (also the warm-up): size the measured runs to about targetSec each.
          const pc = pilotCount(impl, size);
          const { secs } = impl === 'vbus-message' ? await runMessageOneway(size, pc) : await runOneway(peer, ob, impl, size, pc);
          count = Math.max(1000, Math.round((pc / secs) * d.targetSec));
        } else if (size > 4096) {
          count = Math.max(50, count >> 2);
        }
        const rates: number[] = [];
        for (let r = 0; r < repeat; r++) {
          const { secs } = impl === 'vbus-message' ? await runMessageOneway(size, count) : await runOneway(peer, ob, impl, size, count);
          rates.push(count / secs);
          tick(`oneway ${size} B ${impl} (${r + 1}/${repeat})`);
        }
        const ops = median(rates);
        rows.push({
          case: `oneway-${size}B`, impl, bytes: size, opsPerSec: ops, mbPerSec: (ops * size) / 1e6,
          placement: impl === 'vbus-message' ? 'unpinned' : tpPlacement, // the message rig's threads are not pinned
          threads: 2, repeats: repeat, spread: spread(rates), bestOpsPerSec: Math.max(...rates),
          note: `${count} records per repeat`,
        });
      }
    }

    // 3. round-trip latency of the signal path, per placement
    const bus = BusMemory.create({ bytes: 1 << 16 });
    for (const p of latencyPlacements) {
      await place(peer, p);
      for (const impl of RTT_IMPLS) {
        if (!want('rtt-signal', impl)) { done += repeat; continue; }
        // One warm-up round (JIT, and lets the adaptive spin settle), then the repeats.
        await runRtt(peer, bus, impl, Math.min(0.1, d.rttSec));
        const p50s: number[] = [];
        const p99s: number[] = [];
        const rates: number[] = [];
        for (let r = 0; r < repeat; r++) {
          const { samples, secs } = await runRtt(peer, bus, impl, d.rttSec);
          p50s.push(percentile(samples, 50));
          p99s.push(percentile(samples, 99));
          rates.push(samples.length / secs);
          tick(`rtt ${p} ${impl} (${r + 1}/${repeat})`);
        }
        rows.push({
          case: 'rtt-signal', impl, bytes: 0, opsPerSec: median(rates), p50us: median(p50s), p99us: median(p99s),
          placement: p, threads: 2, repeats: repeat, spread: spread(rates), bestOpsPerSec: Math.max(...rates),
        });
      }
    }
  } finally {
    unpinSelf();
    await peer.close();
  }
  // Group for reading: each one-way size with its memcpy reference, then push+pop, then latency.
  const order = (r: Row): number => {
    const m = /^oneway-(\d+)B$/.exec(r.case);
    if (m) return Number(m[1]) * 10 + (r.impl === 'memcpy' ? 0 : 1);
    return r.case.startsWith('push-pop-') ? 1e9 + Number(/\d+/.exec(r.case)?.[0] ?? 0) : 2e9;
  };
  return rows.map((r, i) => ({ r, i })).sort((a, b) => order(a.r) - order(b.r) || a.i - b.i).map((x) => x.r);
}

export const ringBench: BenchModule = {
  description: 'core ring vs js-ring, ringbuf.js, postMessage: one-way throughput (16 B - 64 KiB) and signal round-trip latency',
  references: [
    { casePrefix: 'oneway-', impls: ['postMessage', 'ringbuf.js', 'memcpy'] },
    { casePrefix: 'push-pop-', impls: ['js-ring'] },
    { casePrefix: 'rtt-', impls: ['atomics-wait'] },
  ],
  run,
};

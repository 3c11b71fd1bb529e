/**
 * `npm run bench -- call`: round trips of a tiny call (8 bytes, echoed) between two
 * threads, side by side in one run:
 *
 * - vbus-host:    a guest worker's synchronous DEVCALL to a device model in the host
 *                 (main) thread, which waits with Atomics.waitAsync on its event loop.
 * - vbus-backend: the same DEVCALL to the same model placed in a backend worker
 *                 (piscina thread blocking on its doorbell; direct slot per connection).
 * - vbus-message: vbus-host's DEVCALL on a bus of the message transport (no shared
 *                 memory: batched postMessage both ways; the guest blocks on its port).
 * - waitAsync:    the reference for vbus-host: a worker's plain Atomics.wait/notify round
 *                 trip to the main thread answering from Atomics.waitAsync.
 * - postMessage:  a worker posts to the main thread, which echoes (MessageChannel).
 * - synckit:      the main thread's synchronous call into a synckit worker.
 * - comlink:      the main thread awaits a comlink proxy call into a worker.
 * - piscina:      the main thread awaits pool.run() of an echo task (one thread).
 *
 * Placement: the caller runs on CPU 1 and the callee on CPU 0 ("different-cores"), or
 * both on CPU 0 ("same-core"). Then the connector under load: 1..64 buses, one guest
 * each: one guest calling at a time (latency as buses are added), and all at once
 * (aggregate calls/s).
 */
import { registerBenchClass } from '../harness/observe.js';
import { Worker } from 'node:worker_threads';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { createSyncFn } from 'synckit';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { VbusHost, type GuestWorker, type Bus, type BusTransport } from '../../src/index.js';
import { cpusFor, pinSelf, placementsFor, unpinSelf } from '../harness/pin.js';
import { median, percentile, spread } from '../harness/stats.js';
import type { BenchModule, BenchOptions, Placement, Row } from '../harness/types.js';
import { ECHO_MODEL_URL, createModel } from './echo-model.js';

const PAYLOAD = 8;
const GUEST_URL = new URL('../workers/call-guest.js', import.meta.url);
const ECHO_URL = new URL('../workers/call-echo.js', import.meta.url);
const SYNCKIT_URL = new URL('../workers/call-synckit.js', import.meta.url);
const PISCINA_URL = new URL('../workers/call-piscina.js', import.meta.url);
const WAITASYNC_URL = new URL('../workers/call-waitasync.js', import.meta.url);

export const CALL_IMPLS = ['vbus-host', 'vbus-backend', 'vbus-message', 'waitAsync', 'postMessage', 'synckit', 'comlink', 'piscina'] as const;
type Impl = (typeof CALL_IMPLS)[number];

interface Sampled { samples: Float64Array; secs: number }

/** A guest on its own bus with one echo device, placed as asked. */
class GuestRig {
  readonly host: VbusHost;
  readonly guests: GuestWorker[] = [];
  private readonly waiting = new Map<GuestWorker, Array<(m: any) => void>>();
  private n = 0;
  constructor(readonly placement: 'host' | 'backend', readonly calleeCpu: number | undefined, transport: BusTransport = 'shared') {
    this.host = new VbusHost({ transport });
    registerBenchClass(this.host, {
      name: 'bench-echo',
      interfaces: ['bench-echo'],
      create: () => createModel(null),
      backend: () => ({ modelUrl: ECHO_MODEL_URL.href, modelExport: 'createModel', init: calleeCpu !== undefined ? { pinCpu: calleeCpu } : {} }),
    });
  }
  async addGuest(): Promise<GuestWorker> {
    const i = this.n++;
    const bus: Bus = this.host.createBus(`bench-${i}`, { memoryBytes: 1 << 17 });
    const dev = this.host.createDevice(`echo-${i}`);
    this.host.setType(dev, 'bench-echo');
    this.host.setPlacement(dev, this.placement);
    this.host.link(bus, dev);
    const g = this.host.spawnGuest(bus, GUEST_URL);
    this.waiting.set(g, []);
    g.onMessage((m) => this.waiting.get(g)!.shift()?.(m));
    await this.next(g); // ready
    this.guests.push(g);
    return g;
  }
  next(g: GuestWorker): Promise<any> {
    return new Promise((resolve, reject) => {
      this.waiting.get(g)!.push(resolve);
      void g.exited.then(({ code }) => reject(new Error(`benchmark guest exited with ${code}`)));
    });
  }
  async ask(g: GuestWorker, cmd: object): Promise<any> {
    const p = this.next(g);
    g.postMessage(cmd);
    return p;
  }
  async close(): Promise<void> {
    await this.host.connector.release();
    this.host.release();
  }
}

async function vbusRtt(rig: GuestRig, g: GuestWorker, n: number): Promise<Sampled> {
  const t0 = performance.now();
  const r = await rig.ask(g, { n, warm: Math.min(2000, n) });
  if (r.errors) throw new Error(`${r.errors} calls failed`);
  return { samples: r.samples as Float64Array, secs: (performance.now() - t0) / 1000 };
}

async function timeAsync(n: number, fn: () => Promise<unknown>): Promise<Sampled> {
  for (let i = 0; i < Math.min(500, n); i++) await fn();
  const samples = new Float64Array(n);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    samples[i] = (performance.now() - t) * 1000;
  }
  return { samples, secs: (performance.now() - t0) / 1000 };
}

function timeSync(n: number, fn: () => unknown): Sampled {
  for (let i = 0; i < Math.min(500, n); i++) fn();
  const samples = new Float64Array(n);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    fn();
    samples[i] = (performance.now() - t) * 1000;
  }
  return { samples, secs: (performance.now() - t0) / 1000 };
}

/** One impl in one placement: `repeat` runs of `n` calls. */
async function measure(impl: Impl, p: Placement, n: number, repeat: number): Promise<Sampled[]> {
  const cpus = cpusFor(p); // [callee (main), caller]
  const callee = cpus?.[0];
  const caller = cpus?.[1];
  const out: Sampled[] = [];
  const payload = new Uint8Array(PAYLOAD).fill(7);
  if (impl === 'vbus-host' || impl === 'vbus-backend' || impl === 'vbus-message') {
    const rig = new GuestRig(impl === 'vbus-backend' ? 'backend' : 'host', callee, impl === 'vbus-message' ? 'message' : 'shared');
    try {
      if (callee !== undefined) pinSelf(callee); else unpinSelf();
      const g = await rig.addGuest();
      if (caller !== undefined) await rig.ask(g, { pin: caller }); else await rig.ask(g, { unpin: true });
      for (let r = 0; r < repeat; r++) out.push(await vbusRtt(rig, g, n));
    } finally { await rig.close(); }
    return out;
  }
  if (impl === 'waitAsync') {
    // The worker calls, the main thread answers from its event loop: the same roles as vbus-host.
    if (callee !== undefined) pinSelf(callee); else unpinSelf();
    for (let r = 0; r < repeat; r++) {
      const ctl = new SharedArrayBuffer(8);
      const i32 = new Int32Array(ctl);
      const w = new Worker(WAITASYNC_URL, { workerData: { ctl, n: n + 500, pinCpu: caller } });
      const t0 = performance.now();
      const done = new Promise<Float64Array>((resolve) => w.once('message', resolve));
      let seen = 0;
      for (;;) {
        const res = Atomics.waitAsync(i32, 0, seen);
        if (res.async) await res.value;
        const v = Atomics.load(i32, 0);
        if (v < 0) break;
        seen = v;
        Atomics.store(i32, 1, v); // pong
        Atomics.notify(i32, 1, 1);
      }
      const samples = (await done).subarray(500);
      out.push({ samples, secs: (performance.now() - t0) / 1000 });
      await w.terminate();
    }
    return out;
  }
  // Baselines: the main thread is the caller.
  if (caller !== undefined) pinSelf(caller); else unpinSelf();
  if (impl === 'postMessage') {
    const w = new Worker(ECHO_URL, { workerData: { mode: 'postMessage', pinCpu: callee } });
    try {
      const { port1, port2 } = new MessageChannel();
      void port2;
      let resolve: (() => void) | null = null;
      w.on('message', () => { const r = resolve; resolve = null; r?.(); });
      await new Promise((r) => w.once('online', r));
      const call = (): Promise<void> => new Promise<void>((r) => { resolve = r; w.postMessage(payload); });
      for (let r = 0; r < repeat; r++) out.push(await timeAsync(n, call));
      port1.close();
    } finally { await w.terminate(); }
  } else if (impl === 'comlink') {
    const w = new Worker(ECHO_URL, { workerData: { mode: 'comlink', pinCpu: callee } });
    try {
      const api = Comlink.wrap<{ echo(x: Uint8Array): Uint8Array }>(nodeEndpoint(w));
      for (let r = 0; r < repeat; r++) out.push(await timeAsync(n, () => api.echo(payload)));
      api[Comlink.releaseProxy]();
    } finally { await w.terminate(); }
  } else if (impl === 'synckit') {
    process.env.VBUS_PIN_CPU = callee === undefined ? '' : String(callee);
    const echo = createSyncFn<(x: Uint8Array) => Promise<Uint8Array>>(SYNCKIT_URL.pathname);
    for (let r = 0; r < repeat; r++) out.push(timeSync(n, () => echo(payload)));
  } else if (impl === 'piscina') {
    process.env.VBUS_PIN_CPU = callee === undefined ? '' : String(callee);
    const pool = new Piscina({ filename: PISCINA_URL.href, minThreads: 1, maxThreads: 1 });
    try {
      for (let r = 0; r < repeat; r++) out.push(await timeAsync(n, () => pool.run(payload)));
    } finally { await pool.destroy(); }
  }
  return out;
}

function rowFrom(caseName: string, impl: string, p: Placement, runs: Sampled[], note?: string): Row {
  const p50 = runs.map((r) => percentile(r.samples, 50));
  const p99 = runs.map((r) => percentile(r.samples, 99));
  // Calls per second from the timed calls themselves (warm-up and setup excluded), the
  // same way for every impl: count / sum of round-trip times.
  const rates = runs.map((r) => { let t = 0; for (const x of r.samples) t += x; return r.samples.length / (t / 1e6); });
  return {
    case: caseName, impl, bytes: PAYLOAD, opsPerSec: median(rates), p50us: median(p50), p99us: median(p99),
    placement: p, threads: 2, repeats: runs.length, spread: spread(rates), ...(note ? { note } : {}),
  };
}

async function run(opts: BenchOptions): Promise<Row[]> {
  const placements = placementsFor(opts.placement);
  const repeat = opts.quick ? 1 : opts.repeat;
  const n = opts.quick ? 2000 : 50_000;
  const slowN = opts.quick ? 500 : 10_000; // the message-based peers take ~60 µs a call on different cores
  const busCounts = opts.quick ? [1, 4] : [1, 4, 16, 64];
  const total = placements.length * CALL_IMPLS.length + busCounts.length * 2;
  let done = 0;
  const tick = (label: string): void => opts.progress(++done, total, label);
  const rows: Row[] = [];
  try {
    const want = (c: string, impl: string): boolean => !opts.only || opts.only.test(`${c} ${impl}`);
    for (const p of placements) {
      for (const impl of CALL_IMPLS) {
        if (!want('rtt-call', impl)) { tick(`rtt-call ${p} ${impl} (skipped)`); continue; }
        const count = impl.startsWith('vbus') && impl !== 'vbus-message' ? n : slowN;
        rows.push(rowFrom('rtt-call', impl, p, await measure(impl, p, count, repeat)));
        tick(`rtt-call ${p} ${impl}`);
      }
    }
    // Many buses: one guest per bus. Latency with one caller at a time (pinned like the
    // different-cores rows: host or backends on CPU 0, the caller on CPU 1, so the rows
    // differ only in the number of buses), then all guests at once, unpinned.
    const scaleCpus = cpusFor('different-cores');
    const scalePlacement: Placement = scaleCpus ? 'different-cores' : 'unpinned';
    for (const placement of ['host', 'backend'] as const) {
      const impl = placement === 'host' ? 'vbus-host' : 'vbus-backend';
      if (!want('rtt-call-buses', impl)) { done += busCounts.length; continue; }
      const rig = new GuestRig(placement, scaleCpus?.[0]);
      try {
        for (const buses of busCounts) {
          if (scaleCpus) pinSelf(scaleCpus[0]); else unpinSelf();
          while (rig.guests.length < buses) await rig.addGuest();
          const runs: Sampled[] = [];
          for (let r = 0; r < repeat; r++) {
            const g = rig.guests[(r * 7) % rig.guests.length]!; // a different guest (bus) each repeat
            if (scaleCpus) await rig.ask(g, { pin: scaleCpus[1] });
            runs.push(await vbusRtt(rig, g, Math.max(500, n >> 2)));
            await rig.ask(g, { unpin: true });
          }
          unpinSelf();
          rows.push(rowFrom(`rtt-call-${buses}buses`, impl, scalePlacement, runs, `${buses} buses with a guest each; one caller at a time`));
          const ms = opts.quick ? 100 : 1000;
          const t0 = performance.now();
          const counts = await Promise.all(rig.guests.map((g) => rig.ask(g, { ms })));
          const secs = (performance.now() - t0) / 1000;
          const calls = counts.reduce((a, c) => a + c.count, 0);
          rows.push({ case: `calls-concurrent-${buses}buses`, impl, bytes: PAYLOAD, opsPerSec: calls / secs, placement: 'unpinned', threads: buses + 1, repeats: 1, note: 'every guest calling at once; aggregate' });
          tick(`${buses} buses ${impl}`);
        }
      } finally { await rig.close(); }
    }
  } finally {
    unpinSelf();
  }
  return rows;
}

export const callBench: BenchModule = {
  description: 'tiny call round trips: DEVCALL to a host-thread / backend device vs postMessage, synckit, comlink, piscina; 1-64 buses',
  references: [
    { casePrefix: 'rtt-call', impls: ['waitAsync', 'synckit', 'postMessage'] },
    { casePrefix: 'calls-', impls: ['vbus-host'] },
  ],
  run,
};

/**
 * `npm run bench -- scale`: many busy guests on few cores.
 *
 * - calls-Nguests: N guests, each on its own bus with its own 8-byte echo device, all
 *   calling at once for the same window. `vbus-host` (models in the host thread),
 *   `vbus-backend` (the devices in the backend pool: at most one thread per core, each
 *   serving many devices), against `postMessage` (N workers each asking the main thread
 *   to echo) and `piscina` (N concurrent tasks on a pool of one thread per core).
 *   Aggregate calls/s, per-call p50/p99 (every 8th call timed), and fairness: the
 *   lowest guest's count ÷ the mean. N = 1, 4, 16, 64, 256 in both placements.
 *   `backendThreads` (and the note) says how many pool threads served the N devices.
 * - switch-Nguests-64B: N = 2, 4, 16 guests on N buses joined by one venet-switch (in
 *   the host thread, or in one backend pool thread), each sending 64-byte frames to the
 *   next guest; aggregate frames/s received.
 * - vdisk-Nguests-4k: N = 1, 4, 16 guests on N buses sharing one memory-backed vdisk,
 *   each keeping 4 random 4 KiB reads in flight; aggregate IOPS (one queue per bus).
 * - vdisk-Nguests-mq-4k: N = 4, 16 guests on one bus (one guest and N-1 children it
 *   spawned) driving one memory vdisk through multiqueue, one queue pair each, 4 random
 *   4 KiB reads in flight each (bench/mq's measure); aggregate IOPS.
 * - mem-idle-bus / mem-idle-guest: resident memory per idle bus (with one device linked)
 *   and per idle guest worker, from process RSS before and after.
 * - cpu-idle-guest: the process's CPU per idle guest (cpuUsPerSec), from process.cpuUsage
 *   over 2 s while they idle.
 *
 * Every point is one 1.5 s window per repeat (at most 3), after uncounted warm-up
 * windows until every worker has done 4000 operations and the aggregate rate has stopped
 * rising (at most 60 s: Fleet.warmUp), and the row reports the median; the note says how
 * long the warm-up took. The plot (aggregate rate against N per impl) is drawn by plot.ts
 * into bench/results/scale.svg. This VM has 2 vCPUs shared with other work: the numbers say
 * how this machine behaved during this run, not what vbus can do on a quiet one.
 */
import { Worker } from 'node:worker_threads';
import os from 'node:os';
import { Piscina } from 'piscina';
import { VbusHost, registerVenetClasses, vdiskClass, type Bus, type GuestWorker } from '../../src/index.js';
import { median, percentile } from '../harness/stats.js';
import type { BenchModule, BenchOptions, Row } from '../harness/types.js';
import { ECHO_MODEL_URL, createModel } from '../call/echo-model.js';
import { CTL_BYTES, CTL_GEN, CTL_READY, CTL_STOP, type WindowResult } from './protocol.js';
import { writePlot } from './plot.js';
import { measure as measureMq } from '../mq/index.js';

const CALL_GUEST = new URL('./call-guest.js', import.meta.url);
const NET_GUEST = new URL('./net-guest.js', import.meta.url);
const DISK_GUEST = new URL('./disk-guest.js', import.meta.url);
const PM_WORKER = new URL('./pm-worker.js', import.meta.url);
const PISCINA_TASK = new URL('../workers/call-piscina.js', import.meta.url);

export interface ScaleRow extends Row {
  /** Lowest worker's count ÷ mean count over the window. */
  fairness?: number;
  /** N: guests (or workers, or concurrent tasks). */
  guests?: number;
  /** Backend pool threads that served the devices (backend placement). */
  backendThreads?: number;
  /** cpu-idle-guest: process CPU per idle guest, microseconds per second. */
  cpuUsPerSec?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Operations every worker does before a point is measured (see Fleet.warmUp); `--quick` (the smoke test) does 200. */
const WARM_OPS = 4000;
/** The longest warm-up of one point, ms (256 guests on 2 vCPUs need about 30-50 s to reach WARM_OPS each: they take turns). */
const WARM_MAX_MS = 60_000;
/** The warm-up of this run (set from the options). */
let warmOps = WARM_OPS;

/**
 * The warm-up ends once this many windows in a row brought no new high of the aggregate
 * rate (more than STEADY_GAIN above the best window so far); `--quick` needs none.
 */
const STEADY_WINDOWS = 3;
const STEADY_GAIN = 1.1;
let steadyWindows = STEADY_WINDOWS;

/** What a warm-up took: its length, the operations of the slowest worker by then, and whether the rate had settled. */
interface Warm { secs: number; minOps: number; steady: boolean }

/** The note's words for a warm-up. */
function warmNote(w: Warm): string {
  return `after ${w.secs.toFixed(1)} s of warm-up (slowest worker ${w.minOps} ops${w.steady ? '' : '; the rate was still rising when the warm-up bound came'})`;
}

/** A set of workers that count over common windows (see protocol.ts). */
class Fleet {
  readonly ctlSab = new SharedArrayBuffer(CTL_BYTES);
  readonly ctl = new Int32Array(this.ctlSab);
  private gen = 0;
  private readonly pending: Array<Array<(r: WindowResult) => void>> = [];

  /** Registers a worker; `onResult` is how its WindowResult messages reach us. */
  add(): (r: WindowResult) => void {
    const q: Array<(r: WindowResult) => void> = [];
    this.pending.push(q);
    return (r) => q.shift()?.(r);
  }

  get size(): number { return this.pending.length; }

  /** Runs one window of `ms` over every worker. */
  async window(ms: number): Promise<{ results: WindowResult[]; secs: number }> {
    const deadline = Date.now() + 120_000;
    while (Atomics.load(this.ctl, CTL_READY) < this.size) {
      if (Date.now() > deadline) throw new Error(`scale: only ${Atomics.load(this.ctl, CTL_READY)} of ${this.size} workers became ready`);
      await sleep(5);
    }
    Atomics.store(this.ctl, CTL_READY, 0);
    const results = this.pending.map((q) => new Promise<WindowResult>((r) => q.push(r)));
    const g = ++this.gen;
    const t0 = performance.now();
    Atomics.store(this.ctl, CTL_GEN, g); // the window opens (pairs with waitWindow's load)
    Atomics.notify(this.ctl, CTL_GEN);
    await sleep(ms);
    Atomics.store(this.ctl, CTL_STOP, g);
    const secs = (performance.now() - t0) / 1000;
    return { results: await Promise.all(results), secs };
  }

  /**
   * Uncounted windows until every worker has done at least WARM_OPS operations and the
   * aggregate rate has stopped rising (STEADY_WINDOWS windows in a row without a new
   * high), or WARM_MAX_MS have passed (at least one window). Each worker is a V8 isolate
   * that compiles its own code, and the compiler threads are shared: with 64 or 256
   * workers the first seconds, often the first ten or more, measure the compilers, not
   * the transport (64 echo guests here went from 54 k to 250 k calls/s over their first
   * 5 s, and to 330-390 k from the 9th second on, with TurboFan a fifth of the process's
   * CPU time at the 9th second and 2% at the 28th). Neither a count of operations nor a
   * time says when every worker's code is hot on any machine; a rate that no longer
   * rises does. Returns what the warm-up took.
   */
  async warmUp(ms: number): Promise<Warm> {
    const t0 = performance.now();
    const done = new Array<number>(this.size).fill(0);
    let best = 0;
    let flat = 0;
    for (;;) {
      const w = await this.window(ms);
      w.results.forEach((r, i) => { done[i] = done[i]! + r.count; });
      const rate = windowRate(w);
      if (rate > best * STEADY_GAIN) flat = 0; else flat++;
      best = Math.max(best, rate);
      const minOps = Math.min(...done);
      const secs = (performance.now() - t0) / 1000;
      const steady = flat >= steadyWindows;
      if ((minOps >= warmOps && steady) || secs * 1000 >= WARM_MAX_MS) return { secs, minOps, steady };
    }
  }

  /** A point: the warm-up, then `repeat` counted windows of `ms`. */
  async measure(ms: number, repeat: number): Promise<{ runs: Array<{ results: WindowResult[]; secs: number }>; warm: Warm }> {
    const warm = await this.warmUp(ms);
    const runs = [];
    for (let r = 0; r < repeat; r++) runs.push(await this.window(ms));
    return { runs, warm };
  }

  /** Ends every worker's loop. */
  end(): void {
    Atomics.store(this.ctl, CTL_GEN, -1);
    Atomics.notify(this.ctl, CTL_GEN);
  }
}

/** A window's aggregate rate, operations per second. */
function windowRate(w: { results: WindowResult[]; secs: number }): number {
  return w.results.reduce((a, x) => a + x.count, 0) / w.secs;
}

function summarise(kase: string, impl: string, n: number, bytes: number, runs: Array<{ results: WindowResult[]; secs: number }>, note: string, backendThreads?: number): ScaleRow {
  const rates = runs.map(windowRate);
  const fair = runs.map((r) => {
    const c = r.results.map((x) => x.count);
    const mean = c.reduce((a, x) => a + x, 0) / c.length;
    return mean > 0 ? Math.min(...c) / mean : 0;
  });
  const samples = runs.flatMap((r) => r.results.flatMap((x) => Array.from(x.samples)));
  const errors = runs.reduce((a, r) => a + r.results.reduce((b, x) => b + x.errors, 0), 0);
  const row: ScaleRow = {
    case: kase, impl, bytes, opsPerSec: median(rates), placement: 'unpinned', threads: n + 1 + (backendThreads ?? 0), repeats: runs.length,
    fairness: Number(median(fair).toFixed(3)), guests: n,
    ...(backendThreads !== undefined ? { backendThreads } : {}),
    note: `${note}${backendThreads !== undefined ? `; ${backendThreads} backend pool threads` : ''}; fairness ${median(fair).toFixed(2)}${errors ? `; ${errors} errors` : ''}`,
  };
  if (bytes > 0) row.mbPerSec = (row.opsPerSec * bytes) / 1e6;
  if (samples.length > 0) { row.p50us = percentile(samples, 50); row.p99us = percentile(samples, 99); }
  return row;
}

function waitMessage(g: GuestWorker, pred: (m: any) => boolean): Promise<any> {
  return new Promise((resolve, reject) => {
    let done = false;
    g.onMessage((m) => { if (!done && pred(m)) { done = true; resolve(m); } });
    void g.exited.then((c) => { if (!done) reject(new Error(`scale guest exited (${c})`)); });
  });
}

/** vbus: N guests, each on its own bus with its own echo device. Grows as asked. */
class CallRig {
  readonly host = new VbusHost();
  readonly fleet = new Fleet();
  constructor(readonly placement: 'host' | 'backend') {
    this.host.registerClass({
      name: 'scale-echo', interfaces: ['scale-echo'],
      create: () => createModel(null),
      backend: () => ({ modelUrl: ECHO_MODEL_URL.href, modelExport: 'createModel', init: {} }),
    });
  }
  /** Adds guests until there are n. */
  async grow(n: number): Promise<Fleet> {
    const f = this.fleet;
    const starts: Promise<unknown>[] = [];
    for (let k = f.size; k < n; k++) {
      const bus: Bus = this.host.createBus(`scale-${k}`, { memoryBytes: 1 << 17 });
      const dev = this.host.createDevice(`echo-${k}`);
      this.host.setType(dev, 'scale-echo');
      this.host.setPlacement(dev, this.placement);
      this.host.link(bus, dev);
      const g = this.host.spawnGuest(bus, CALL_GUEST, { data: { ctl: f.ctlSab } });
      const onResult = f.add();
      g.onMessage((m) => { if ((m as WindowResult).samples) onResult(m as WindowResult); });
      starts.push(waitMessage(g, (m) => m.ready));
      if (starts.length >= 16) await Promise.all(starts.splice(0)); // in batches: spawning is CPU-bound
    }
    await Promise.all(starts);
    return f;
  }
  async close(): Promise<void> {
    this.fleet.end();
    await this.host.connector.release();
    this.host.release();
  }
}

async function vbusCalls(placement: 'host' | 'backend', ns: number[], ms: number, repeat: number, tick: (l: string) => void): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  const impl = placement === 'host' ? 'vbus-host' : 'vbus-backend';
  const rig = new CallRig(placement);
  try {
    for (const n of ns) {
      const f = await rig.grow(n);
      const { runs, warm } = await f.measure(ms, repeat);
      const threads = placement === 'backend' ? rig.host.backendThreads().length : undefined;
      rows.push(summarise(`calls-${n}guests`, impl, n, 8, runs, `${n} buses, one guest and one echo device each, all calling; ${warmNote(warm)}`, threads));
      tick(`calls ${impl} ${n}`);
    }
  } finally { await rig.close(); }
  return rows;
}

async function postMessageCalls(ns: number[], ms: number, repeat: number, tick: (l: string) => void): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  for (const n of ns) {
    const f = new Fleet();
    const workers = Array.from({ length: n }, () => {
      const w = new Worker(PM_WORKER, { workerData: { ctl: f.ctlSab } });
      const onResult = f.add();
      w.on('message', (m: unknown) => {
        if (m instanceof Uint8Array) w.postMessage('echo'); // the main thread echoes
        else onResult(m as WindowResult);
      });
      return w;
    });
    try {
      const { runs, warm } = await f.measure(ms, repeat);
      rows.push(summarise(`calls-${n}guests`, 'postMessage', n, 8, runs, `${n} workers, each awaiting an echo from the main thread; ${warmNote(warm)}`));
    } finally {
      f.end();
      await Promise.all(workers.map((w) => w.terminate()));
    }
    tick(`calls postMessage ${n}`);
  }
  return rows;
}

async function piscinaCalls(ns: number[], ms: number, repeat: number, tick: (l: string) => void): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  const threads = os.availableParallelism();
  process.env.VBUS_PIN_CPU = '';
  const pool = new Piscina({ filename: PISCINA_TASK.href, minThreads: threads, maxThreads: threads });
  const payload = new Uint8Array(8).fill(7);
  try {
    for (let i = 0; i < threads * 4; i++) await pool.run(payload); // warm every thread
    for (const n of ns) {
      const runs = [];
      // One uncounted window first: the main thread's clients and the pool's threads are
      // two isolates, warm after a window (the vbus and postMessage fleets, N isolates,
      // warm up until their rate stops rising: Fleet.warmUp).
      for (let r = -1; r < repeat; r++) {
        let stop = false;
        const t0 = performance.now();
        const clients = Array.from({ length: n }, async (): Promise<WindowResult> => {
          const samples: number[] = [];
          let count = 0;
          while (!stop) {
            const t = performance.now();
            await pool.run(payload);
            if ((count & 7) === 0 && samples.length < 4096) samples.push((performance.now() - t) * 1000);
            count++;
          }
          return { count, errors: 0, samples: Float64Array.from(samples) };
        });
        await sleep(ms);
        stop = true;
        const secs = (performance.now() - t0) / 1000;
        const results = await Promise.all(clients);
        if (r >= 0) runs.push({ results, secs });
      }
      rows.push(summarise(`calls-${n}guests`, 'piscina', n, 8, runs, `${n} concurrent tasks on ${threads} pool threads, after one uncounted window`));
      tick(`calls piscina ${n}`);
    }
  } finally { await pool.destroy(); }
  return rows;
}

async function switchFrames(placement: 'host' | 'backend', ns: number[], ms: number, repeat: number, tick: (l: string) => void): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  const impl = placement === 'host' ? 'vbus-host' : 'vbus-backend';
  for (const n of ns) {
    const host = new VbusHost();
    registerVenetClasses(host);
    const f = new Fleet();
    try {
      const sw = host.createDevice('sw');
      host.setType(sw, 'venet-switch');
      host.setPlacement(sw, placement);
      const guests: GuestWorker[] = [];
      const ready: Promise<{ mac: string }>[] = [];
      for (let i = 0; i < n; i++) {
        const bus = host.createBus(`net-${i}`, { memoryBytes: 1 << 20 });
        host.link(bus, sw);
        const g = host.spawnGuest(bus, NET_GUEST, { data: { ctl: f.ctlSab } });
        const onResult = f.add();
        g.onMessage((m) => { if ((m as WindowResult).samples) onResult(m as WindowResult); });
        ready.push(waitMessage(g, (m) => m.ready));
        guests.push(g);
        if (ready.length % 16 === 0) await Promise.all(ready); // in batches: spawning is CPU-bound
      }
      const macs = (await Promise.all(ready)).map((r) => r.mac);
      await Promise.all(guests.map((g, i) => { const p = waitMessage(g, (m) => m.learned); g.postMessage({ dst: macs[(i + 1) % n] }); return p; }));
      const { runs, warm } = await f.measure(ms, repeat);
      const threads = placement === 'backend' ? host.backendThreads().length : undefined;
      rows.push(summarise(`switch-${n}guests-64B`, impl, n, 64, runs, `${n} buses on one venet-switch, each guest sending to the next; frames received, drops ${sw.attr('drops')}; ${warmNote(warm)}`, threads));
    } finally {
      f.end();
      await host.connector.release();
      host.release();
    }
    tick(`switch ${impl} ${n}`);
  }
  return rows;
}

async function sharedDisk(placement: 'host' | 'backend', ns: number[], ms: number, repeat: number, tick: (l: string) => void): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  const impl = placement === 'host' ? 'vbus-host' : 'vbus-backend';
  for (const n of ns) {
    const host = new VbusHost();
    host.registerClass(vdiskClass);
    const f = new Fleet();
    try {
      const disk = host.createDevice('disk');
      host.setType(disk, 'vdisk');
      disk.setAttr('capacity', String(64 << 20));
      host.setPlacement(disk, placement);
      const starts: Promise<unknown>[] = [];
      for (let i = 0; i < n; i++) {
        if (starts.length >= 16) await Promise.all(starts.splice(0));
        const bus = host.createBus(`disk-${i}`, { memoryBytes: 1 << 20 });
        host.link(bus, disk);
        const g = host.spawnGuest(bus, DISK_GUEST, { data: { ctl: f.ctlSab, qd: 4 } });
        const onResult = f.add();
        g.onMessage((m) => { if ((m as WindowResult).samples) onResult(m as WindowResult); });
        starts.push(waitMessage(g, (m) => m.ready));
      }
      await Promise.all(starts);
      const { runs, warm } = await f.measure(ms, repeat);
      const threads = placement === 'backend' ? host.backendThreads().length : undefined;
      rows.push(summarise(`vdisk-${n}guests-4k`, impl, n, 4096, runs, `${n} buses sharing one memory vdisk, 4 random 4 KiB reads in flight per guest; ${warmNote(warm)}`, threads));
    } finally {
      f.end();
      await host.connector.release();
      host.release();
    }
    tick(`vdisk ${impl} ${n}`);
  }
  return rows;
}

/** N guests on one bus driving one vdisk through N queue pairs (bench/mq), QD 4 each. */
async function multiqueueDisk(placement: 'host' | 'backend', ns: number[], ms: number, repeat: number, tick: (l: string) => void): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  const impl = placement === 'host' ? 'vbus-host' : 'vbus-backend';
  for (const n of ns) {
    const r = await measureMq('vdisk', placement, n, 4, ms, repeat);
    rows.push({
      case: `vdisk-${n}guests-mq-4k`, impl, bytes: 4096, opsPerSec: r.ops, mbPerSec: (r.ops * 4096) / 1e6, placement: 'unpinned',
      threads: r.queues + 1 + (r.backendThreads ?? 0), repeats: repeat, guests: r.queues,
      ...(r.backendThreads !== undefined ? { backendThreads: r.backendThreads } : {}),
      note: `one guest and ${r.queues - 1} children on one bus, one queue pair each of one memory vdisk, 4 random 4 KiB reads in flight per guest${r.backendThreads !== undefined ? `; ${r.backendThreads} backend pool threads` : ''}`,
    });
    tick(`vdisk-mq ${impl} ${n}`);
  }
  return rows;
}

/** Resident bytes per idle bus (with one device linked) and per idle guest; CPU per idle guest. */
async function idleMemory(k: number, cpuMs: number): Promise<ScaleRow[]> {
  const rss = (): number => { (globalThis as { gc?: () => void }).gc?.(); return process.memoryUsage().rss; };
  const host = new VbusHost();
  host.registerClass({ name: 'scale-echo', interfaces: ['scale-echo'], create: () => createModel(null) });
  try {
    await sleep(50);
    const r0 = rss();
    const buses: Bus[] = [];
    for (let i = 0; i < k; i++) {
      const bus = host.createBus(`idle-${i}`, { memoryBytes: 1 << 17 });
      const dev = host.createDevice(`idle-echo-${i}`);
      host.setType(dev, 'scale-echo');
      host.link(bus, dev);
      buses.push(bus);
    }
    await sleep(50);
    const r1 = rss();
    const f = new Fleet();
    const starts = buses.map((bus) => { const g = host.spawnGuest(bus, CALL_GUEST, { data: { ctl: f.ctlSab } }); f.add(); return waitMessage(g, (m) => m.ready); });
    await Promise.all(starts);
    await sleep(200);
    const r2 = rss();
    // The process's CPU while every guest idles (their devices' host side included): what
    // an idle fleet costs the machine in wake-ups.
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(cpuMs);
    const c = process.cpuUsage(c0);
    const cpuPerGuest = Math.round((c.user + c.system) / ((performance.now() - t0) / 1000) / k);
    f.end();
    const perBus = Math.max(0, Math.round((r1 - r0) / k));
    const perGuest = Math.max(0, Math.round((r2 - r1) / k));
    return [
      { case: 'mem-idle-bus', impl: 'vbus-host', bytes: perBus, opsPerSec: 0, placement: 'unpinned', threads: 1, repeats: 1, guests: k, note: `resident bytes per idle bus (128 KiB bus memory, one device linked), over ${k} buses` },
      { case: 'mem-idle-guest', impl: 'vbus-host', bytes: perGuest, opsPerSec: 0, placement: 'unpinned', threads: k + 1, repeats: 1, guests: k, note: `resident bytes per idle guest worker (joined, one open connection), over ${k} guests` },
      { case: 'cpu-idle-guest', impl: 'vbus-host', bytes: 0, opsPerSec: 0, cpuUsPerSec: cpuPerGuest, placement: 'unpinned', threads: k + 1, repeats: 1, guests: k, note: `process CPU per idle guest (its bus, device and worker), microseconds a second, over ${k} guests idling ${cpuMs} ms` },
    ];
  } finally {
    await host.connector.release();
    host.release();
  }
}

async function run(opts: BenchOptions): Promise<Row[]> {
  const ns = opts.quick ? [1, 4] : [1, 4, 16, 64, 256];
  const netNs = opts.quick ? [2, 4] : [2, 4, 16];
  const diskNs = opts.quick ? [1, 4] : [1, 4, 16];
  const mqNs = opts.quick ? [4] : [4, 16];
  const ms = opts.quick ? 150 : 1500; // the window of the issue's outside harness: at 256 guests a round of call turns takes a large part of a second
  warmOps = opts.quick ? 200 : WARM_OPS;
  steadyWindows = opts.quick ? 0 : STEADY_WINDOWS;
  const repeat = opts.quick ? 1 : Math.min(3, opts.repeat);
  const want = (c: string, impl: string): boolean => !opts.only || opts.only.test(`${c} ${impl}`);
  const total = ns.length * 4 + netNs.length * 2 + diskNs.length * 2 + mqNs.length * 2 + 1;
  let done = 0;
  const tick = (label: string): void => opts.progress(++done, total, label);
  const rows: ScaleRow[] = [];
  // Memory first, while the process has not yet grown and freed for the other rows.
  if (want('mem', 'vbus-host')) { rows.push(...await idleMemory(opts.quick ? 4 : 32, opts.quick ? 200 : 2000)); tick('memory'); }
  if (want('calls', 'vbus-host')) rows.push(...await vbusCalls('host', ns, ms, repeat, tick));
  if (want('calls', 'vbus-backend')) rows.push(...await vbusCalls('backend', ns, ms, repeat, tick));
  if (want('calls', 'postMessage')) rows.push(...await postMessageCalls(ns, ms, repeat, tick));
  if (want('calls', 'piscina')) rows.push(...await piscinaCalls(ns, ms, repeat, tick));
  if (want('switch', 'vbus-host')) rows.push(...await switchFrames('host', netNs, ms, repeat, tick));
  if (want('switch', 'vbus-backend')) rows.push(...await switchFrames('backend', netNs, ms, repeat, tick));
  if (want('vdisk', 'vbus-host')) rows.push(...await sharedDisk('host', diskNs, ms, repeat, tick));
  if (want('vdisk', 'vbus-backend')) rows.push(...await sharedDisk('backend', diskNs, ms, repeat, tick));
  if (want('vdisk-mq', 'vbus-host')) rows.push(...await multiqueueDisk('host', mqNs, ms, repeat, tick));
  if (want('vdisk-mq', 'vbus-backend')) rows.push(...await multiqueueDisk('backend', mqNs, ms, repeat, tick));
  rows.sort((a, b) => a.case.localeCompare(b.case, 'en', { numeric: true }));
  await writePlot(rows, opts.quick);
  return rows;
}

export const scaleBench: BenchModule = {
  description: 'many busy guests: aggregate calls/s, p50/p99 and fairness for 1-256 guests (host, backend) vs postMessage and piscina; switch and shared-vdisk aggregates; idle memory',
  references: [
    { casePrefix: 'calls-', impls: ['postMessage', 'piscina'] },
  ],
  run,
};

/**
 * `npm run bench -- venet` (or `node dist/bench/venet/index.js [--quick]`): frames/s
 * and Gbit/s of 64 B and 1500 B frames
 *  - through venet-loopback (one guest sends and receives), device model in the host
 *    thread (`vbus-host`) and in a backend worker (`vbus-backend`);
 *  - through venet-switch between two guests on two buses (frames copied from one bus
 *    memory into the other), device model in the host thread;
 *  - multiqueue: 1 and 4 guest threads on one loopback, one queue pair each (bench/mq).
 * Every guest uses the real driver (bench/venet/guest.ts). Rows follow the bench
 * harness's shape: {case, impl, bytes, opsPerSec, gbps, ...}.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { VbusHost, venetLoopbackClass, venetSwitchClass, type Bus, type GuestWorker } from '../../src/index.js';
import { registerBenchClass } from '../harness/observe.js';
import { runMqVenet } from '../mq/index.js';

export interface VenetRow {
  case: string;
  impl: 'vbus-host' | 'vbus-backend';
  bytes: number;
  opsPerSec: number;
  gbps: number;
  mbPerSec: number;
  placement: 'unpinned';
  threads: number;
  repeats: number;
  bestOpsPerSec: number;
  note?: string;
}

export interface VenetBenchOptions {
  quick?: boolean;
  repeat?: number;
  only?: RegExp;
  progress?: (done: number, total: number, label: string) => void;
}

const GUEST_URL = new URL('./guest.js', import.meta.url);
const BATCH = 64;

interface Done { got: number; sent?: number; ms: number }

function waitFor<T>(g: GuestWorker, event: string): Promise<T> {
  return new Promise((resolve, reject) => {
    let settled = false;
    g.onMessage((m) => {
      const msg = m as { event?: string };
      if (!settled && msg.event === event) { settled = true; resolve(m as T); }
    });
    void g.exited.then(({ code }) => reject(new Error(`bench guest exited (${code}) before '${event}'`)));
  });
}

async function guestOn(host: VbusHost, bus: Bus): Promise<{ g: GuestWorker; mac: string }> {
  const g = host.spawnGuest(bus, GUEST_URL);
  const r = await waitFor<{ mac: string }>(g, 'ready');
  return { g, mac: r.mac };
}

async function loopbackOnce(placement: 'host' | 'backend', bytes: number, n: number): Promise<{ fps: number; note: string }> {
  const host = new VbusHost();
  for (const c of [venetLoopbackClass, venetSwitchClass]) registerBenchClass(host, c);
  try {
    const bus = host.createBus('bench', { memoryBytes: 8 << 20 });
    const dev = host.createDevice('lo');
    host.setType(dev, 'venet-loopback');
    host.setPlacement(dev, placement);
    host.link(bus, dev);
    const { g } = await guestOn(host, bus);
    const done = waitFor<Done>(g, 'done');
    g.postMessage({ role: 'echo', n, bytes, batch: BATCH });
    const r = await done;
    return { fps: r.got / (r.ms / 1000), note: `got ${r.got}/${n}, drops ${dev.attr('drops')}` };
  } finally {
    await host.connector.release();
    host.release();
  }
}

async function switchOnce(bytes: number, n: number): Promise<{ fps: number; note: string }> {
  const host = new VbusHost();
  for (const c of [venetLoopbackClass, venetSwitchClass]) registerBenchClass(host, c);
  try {
    const sw = host.createDevice('sw');
    host.setType(sw, 'venet-switch');
    const b1 = host.createBus('left', { memoryBytes: 8 << 20 });
    const b2 = host.createBus('right', { memoryBytes: 8 << 20 });
    host.link(b1, sw);
    host.link(b2, sw);
    const tx = await guestOn(host, b1);
    const rx = await guestOn(host, b2);
    // Teach the switch where the receiver is, so the run is unicast (not flooding).
    // The receiver announces itself with one frame to the sender.
    const heard = waitFor<Done>(tx.g, 'done');
    const said = waitFor<Done>(rx.g, 'done');
    tx.g.postMessage({ role: 'rx', n: 1, bytes, batch: 1 });
    rx.g.postMessage({ role: 'tx', n: 1, bytes: 64, batch: 1, dst: tx.mac });
    await heard; await said;
    const got = waitFor<Done>(rx.g, 'done');
    rx.g.postMessage({ role: 'rx', n, bytes, batch: BATCH, idleMs: 500 });
    tx.g.postMessage({ role: 'tx', n, bytes, batch: BATCH, dst: rx.mac });
    const r = await got;
    return { fps: r.got / (r.ms / 1000), note: `got ${r.got}/${n}, drops ${sw.attr('drops')}` };
  } finally {
    await host.connector.release();
    host.release();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Runs the venet measurements and returns one row per case. */
export async function run(opts: VenetBenchOptions = {}): Promise<VenetRow[]> {
  const quick = opts.quick ?? false;
  const repeat = opts.repeat ?? (quick ? 1 : 3);
  const plan: Array<{ name: string; impl: 'vbus-host' | 'vbus-backend'; bytes: number; threads: number; go: (n: number) => Promise<{ fps: number; note: string }> }> = [];
  for (const bytes of [64, 1500]) {
    plan.push({ name: `loopback-${bytes}B`, impl: 'vbus-host', bytes, threads: 2, go: (n) => loopbackOnce('host', bytes, n) });
    plan.push({ name: `loopback-${bytes}B`, impl: 'vbus-backend', bytes, threads: 2, go: (n) => loopbackOnce('backend', bytes, n) });
    plan.push({ name: `switch-2bus-${bytes}B`, impl: 'vbus-host', bytes, threads: 3, go: (n) => switchOnce(bytes, n) });
  }
  const rows: VenetRow[] = [];
  let i = 0;
  for (const p of plan) {
    opts.progress?.(i++, plan.length, `${p.name} ${p.impl}`);
    if (opts.only && !opts.only.test(`${p.name} ${p.impl}`)) continue;
    const n = quick ? 20_000 : (p.bytes <= 64 ? 2_000_000 : 1_000_000);
    const runs: Array<{ fps: number; note: string }> = [];
    for (let r = 0; r < repeat; r++) runs.push(await p.go(n));
    const fps = median(runs.map((x) => x.fps));
    rows.push({
      case: p.name, impl: p.impl, bytes: p.bytes,
      opsPerSec: Math.round(fps),
      gbps: Number(((fps * p.bytes * 8) / 1e9).toFixed(2)),
      mbPerSec: Number(((fps * p.bytes) / 1e6).toFixed(1)),
      placement: 'unpinned', threads: p.threads, repeats: repeat,
      bestOpsPerSec: Math.round(Math.max(...runs.map((x) => x.fps))),
      note: `batch ${BATCH}; ${runs.map((x) => x.note).join('; ')}`,
    });
  }
  // Multiqueue: N guest threads on one loopback, one queue pair each (bench/mq).
  opts.progress?.(i, plan.length, 'multiqueue');
  for (const r of await runMqVenet({ quick, repeat, ...(opts.only ? { only: opts.only } : {}) })) {
    rows.push({ ...r, gbps: Number(((r.opsPerSec * r.bytes * 8) / 1e9).toFixed(2)), bestOpsPerSec: r.opsPerSec });
  }
  return rows;
}

/** The module shape of bench/registry.ts (branch bench). */
export const venetBench = {
  description: 'venet frames/s and Gbit/s: loopback (host, backend) and a switch between two buses, 64 B and 1500 B',
  references: [] as Array<{ casePrefix: string; impls: readonly string[] }>,
  run: (opts: VenetBenchOptions) => run(opts),
};

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const quick = process.argv.includes('--quick');
  const rows = await run({ quick, progress: (d, t, l) => process.stderr.write(`[${d + 1}/${t}] ${l}\n`) });
  console.table(rows.map((r) => ({ case: r.case, impl: r.impl, bytes: r.bytes, 'frames/s': r.opsPerSec, Gbit_s: r.gbps, best: r.bestOpsPerSec, note: r.note })));
  const out = new URL('../../../bench/results/', import.meta.url);
  mkdirSync(out, { recursive: true });
  writeFileSync(new URL('venet.json', out), JSON.stringify({ name: 'venet', machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version }, date: new Date().toISOString(), rows }, null, 2) + '\n');
}

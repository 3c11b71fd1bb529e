/**
 * Throughput of the console and entropy devices, through their guest drivers in a real
 * worker (the same guest the tests drive, test/fixtures/guest-devices.mjs):
 *
 *   console-out   guest write() -> output ring -> model -> memory endpoint (onOutput)
 *   console-in    hostWrite() -> model -> input ring -> guest read()
 *   entropy       guest getRandomValues / read -> DEVCALL GET_ENTROPY -> host CSPRNG
 *
 * Run: `node dist/bench/vconsole/index.js [--quick]` (after `npm run build`): prints a
 * table and writes bench/results/vconsole.json. `run()` returns rows in the shape of the
 * bench harness (bench/harness/types.ts on the bench branch), so it can be registered
 * there as `vconsole`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import { VbusHost, vconsoleClass, vrngClass, type ConsoleModel, type GuestWorker } from '../../src/index.js';
import type { BenchOptions, Row as HarnessRow } from '../harness/types.js';

const GUEST_URL = new URL('../../../test/fixtures/guest-devices.mjs', import.meta.url);

/** One measurement: the harness's row, plus the best repeat. */
export interface Row extends HarnessRow { bestOpsPerSec?: number }

export type Options = Pick<BenchOptions, 'quick' | 'repeat'>;

type Cmd = (cmd: string, args?: Record<string, unknown>) => Promise<Record<string, any>>;

function commander(g: GuestWorker): { cmd: Cmd; ready: Promise<void> } {
  let next = 1;
  const pending = new Map<number, (m: Record<string, any>) => void>();
  let readyFn!: () => void;
  const ready = new Promise<void>((r) => { readyFn = r; });
  g.onMessage((m) => {
    const msg = m as Record<string, any>;
    if (msg.event === 'ready') readyFn();
    const p = pending.get(msg.id);
    if (p) { pending.delete(msg.id); p(msg); }
  });
  const cmd: Cmd = (c, args = {}) => new Promise((res, rej) => {
    const id = next++;
    pending.set(id, (m) => (m.ok ? res(m) : rej(new Error(`${c}: ${m.error} ${m.message}`))));
    g.postMessage({ id, cmd: c, ...args });
  });
  return { cmd, ready };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function row(c: string, impl: string, bytes: number, opsPerRun: number, secs: number[], note: string): Row {
  const ops = secs.map((s) => opsPerRun / s);
  const med = median(ops);
  return {
    case: c, impl, bytes, opsPerSec: Math.round(med), mbPerSec: +((med * bytes) / 1e6).toFixed(1),
    placement: 'unpinned', threads: 2, repeats: secs.length, bestOpsPerSec: Math.round(Math.max(...ops)),
    spread: +((Math.max(...ops) - Math.min(...ops)) / med).toFixed(3), note,
  };
}

export async function run(opts: Options): Promise<Row[]> {
  const repeats = opts.quick ? 1 : opts.repeat;
  const total = opts.quick ? 1 << 20 : 16 << 20;
  const host = new VbusHost();
  host.registerClass(vconsoleClass);
  host.registerClass(vrngClass);
  const bus = host.createBus('bench', { memoryBytes: 4 << 20 });
  const con = host.createDevice('con');
  host.setType(con, 'vconsole');
  host.link(bus, con);
  const rngDev = host.createDevice('rng');
  host.setType(rngDev, 'vrng');
  host.link(bus, rngDev);
  const model = con.model as ConsoleModel;
  const guest = host.spawnGuest(bus, GUEST_URL);
  const { cmd, ready } = commander(guest);
  await ready;
  await cmd('consoleOpen', { dev: 0, outputRing: 1 << 18, inputRing: 1 << 18 });
  await cmd('rngOpen', { dev: 1 });
  const rows: Row[] = [];
  try {
    // guest -> host, in chunks of `chunk` bytes; timed on the host until the last byte arrived
    for (const chunk of [64, 1024, 16384]) {
      const bytes = chunk === 64 ? total / 16 : total;
      const secs: number[] = [];
      for (let r = 0; r < repeats; r++) {
        let got = 0;
        let done!: () => void;
        const all = new Promise<void>((res) => { done = res; });
        const off = model.onOutput((c) => { got += c.length; if (got >= bytes) done(); });
        const t0 = performance.now();
        await cmd('write', { zero: true, seed: 0, bytes, chunkMax: chunk * 2 - 1, mode: 'async' }); // chunks of 1..2*chunk-1: mean ~chunk
        await all;
        off();
        secs.push((performance.now() - t0) / 1000);
      }
      rows.push(row('console-out', 'vconsole-memory', chunk, bytes / chunk, secs, `guest write() of ~${chunk} B chunks (${bytes / 1024} KiB per run), host onOutput`));
    }
    // host -> guest
    {
      const data = new Uint8Array(total);
      const secs: number[] = [];
      for (let r = 0; r < repeats; r++) {
        const t0 = performance.now();
        const reading = cmd('readCount', { bytes: total });
        await model.hostWrite(data);
        const res = await reading;
        secs.push((performance.now() - t0) / 1000);
        if (res.got !== total) throw new Error(`console-in: guest got ${res.got} of ${total}`);
      }
      rows.push(row('console-in', 'vconsole-memory', 16384, total / 16384, secs, `hostWrite of ${total >> 20} MiB, guest read() (records of up to 16 KiB)`));
    }
    // entropy
    for (const [len, mode, n] of [[32, 'sync', 20000], [32, 'async', 5000], [4096, 'sync', 2000]] as const) {
      const calls = opts.quick ? Math.ceil(n / 10) : n;
      const secs: number[] = [];
      for (let r = 0; r < repeats; r++) {
        const res = await cmd('rngCalls', { n: calls, len, mode, keep: false });
        secs.push((res.ms as number) / 1000);
      }
      rows.push(row(`entropy-${mode}`, 'vrng', len, calls, secs, `${mode === 'sync' ? 'getRandomValues' : 'read'}(${len}) per call, timed in the guest`));
    }
  } finally {
    await host.connector.release();
    host.release();
  }
  return rows;
}

/** The module in the bench harness's BenchModule shape: register as `vconsole: async () => (await import('./vconsole/index.js')).vconsoleBench`. */
export const vconsoleBench = {
  description: 'vconsole in/out MB/s through the guest driver (memory endpoint) and vrng calls/s',
  references: [] as ReadonlyArray<{ casePrefix: string; impls: readonly string[] }>,
  run: (opts: Options): Promise<Row[]> => run(opts),
};

function table(rows: Row[]): string {
  const head = ['case', 'impl', 'bytes', 'ops/s', 'MB/s', 'spread', 'note'];
  const body = rows.map((r) => [r.case, r.impl, String(r.bytes), r.opsPerSec.toLocaleString('en'), String(r.mbPerSec), String(r.spread), r.note ?? '']);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  return [head, ...body].map((cols) => cols.map((c, i) => c.padEnd(w[i]!)).join('  ')).join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const rows = await run({ quick, repeat: 5 });
  process.stdout.write(table(rows) + '\n');
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
  const out = join(root, 'bench/results/vconsole.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ bench: 'vconsole', machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '?', node: process.version }, options: { quick, repeat: quick ? 1 : 5 }, rows }, null, 2) + '\n');
  process.stderr.write(`[bench] wrote ${out}\n`);
}

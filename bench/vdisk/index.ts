/**
 * vdisk benchmark: IOPS of 4 KiB random reads and writes at queue depth 1 and 32, and
 * MB/s of sequential 1 MiB reads and writes (queue depth 4), through the guest driver in
 * a worker, with the device model in the host thread (`vbus-host`) and in a backend
 * worker (`vbus-backend`). The backing file lives in the OS temp directory and is
 * written in full first, so it is on the page cache: this measures the data path, not
 * a disk. Multiqueue rows (bench/mq): 4 guest threads on one memory disk, one queue pair
 * each, against one thread with the same requests in flight on one pair.
 *
 * `run(opts)` returns rows in the shape of the bench harness (bench/harness/types.ts on
 * the bench branch); `node dist/bench/vdisk/index.js [--quick] [--repeat N]` runs it
 * alone, prints a table and writes bench/results/vdisk.json.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VbusHost, vdiskClass, type GuestWorker } from '../../src/index.js';
import type { GuestCommand, GuestReply, VdiskBenchCase } from './protocol.js';
import { runMqVdisk } from '../mq/index.js';

/** A result row (the harness's Row). */
export interface VdiskRow {
  case: string;
  impl: 'vbus-host' | 'vbus-backend';
  bytes: number;
  opsPerSec: number;
  mbPerSec: number;
  placement: 'unpinned';
  threads: number;
  repeats: number;
  spread?: number;
  note?: string;
}

/** What `run` takes (a subset of the harness's BenchOptions). */
export interface VdiskBenchOptions {
  quick: boolean;
  repeat: number;
  only?: RegExp;
  progress?: (done: number, total: number, label: string) => void;
}

const CAPACITY = 64 << 20;
const GUEST_URL = new URL('./guest.js', import.meta.url);

const CASES: Array<Omit<VdiskBenchCase, 'ms' | 'seed'>> = [
  { case: 'randread-4k-qd1', op: 'read', pattern: 'random', bytes: 4096, qd: 1 },
  { case: 'randread-4k-qd32', op: 'read', pattern: 'random', bytes: 4096, qd: 32 },
  { case: 'randwrite-4k-qd1', op: 'write', pattern: 'random', bytes: 4096, qd: 1 },
  { case: 'randwrite-4k-qd32', op: 'write', pattern: 'random', bytes: 4096, qd: 32 },
  { case: 'seqread-1m-qd4', op: 'read', pattern: 'sequential', bytes: 1 << 20, qd: 4 },
  { case: 'seqwrite-1m-qd4', op: 'write', pattern: 'sequential', bytes: 1 << 20, qd: 4 },
];

/** A host with one vdisk on `path`, one bus and the bench guest on it. */
async function start(path: string, placement: 'host' | 'backend') {
  const host = new VbusHost();
  host.registerClass(vdiskClass);
  const bus = host.createBus('bench', { memoryBytes: 32 << 20 });
  const dev = host.createDevice('disk');
  host.setType(dev, 'vdisk');
  dev.setAttr('src_path', path);
  host.setPlacement(dev, placement);
  host.link(bus, dev);
  const guest: GuestWorker = host.spawnGuest(bus, GUEST_URL);
  const replies: GuestReply[] = [];
  let wake: (() => void) | null = null;
  guest.onMessage((m) => { replies.push(m as GuestReply); wake?.(); });
  const next = async (): Promise<GuestReply> => {
    while (replies.length === 0) await new Promise<void>((r) => { wake = r; });
    wake = null;
    return replies.shift()!;
  };
  const first = await next();
  if (first.event !== 'ready') throw new Error(`bench guest failed to start: ${JSON.stringify(first)}`);
  const send = (c: GuestCommand): void => guest.postMessage(c);
  return {
    async measure(c: VdiskBenchCase): Promise<number> {
      send({ cmd: 'measure', ...c });
      const r = await next();
      if (r.event !== 'result') throw new Error(`${c.case}: ${JSON.stringify(r)}`);
      return r.ops / r.seconds;
    },
    async stop(): Promise<void> {
      send({ cmd: 'exit' });
      await guest.exited;
      await host.connector.release();
      host.teardown();
    },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export async function run(opts: VdiskBenchOptions): Promise<VdiskRow[]> {
  const repeat = opts.quick ? 1 : opts.repeat;
  const ms = opts.quick ? 150 : 1000;
  const dir = mkdtempSync(join(tmpdir(), 'vdisk-bench-'));
  const path = join(dir, 'disk.img');
  writeFileSync(path, Buffer.alloc(CAPACITY, 0xa5)); // written through the page cache: it stays there
  const rows: VdiskRow[] = [];
  const impls = [['vbus-host', 'host'], ['vbus-backend', 'backend']] as const;
  const todo = impls.flatMap(([impl]) => CASES.filter((c) => !opts.only || opts.only.test(`${c.case} ${impl}`)).map((c) => ({ impl, c })));
  let done = 0;
  try {
    for (const [impl, placement] of impls) {
      const mine = todo.filter((t) => t.impl === impl);
      if (mine.length === 0) continue;
      const h = await start(path, placement);
      try {
        for (const { c } of mine) {
          opts.progress?.(done, todo.length, `${c.case} ${impl}`);
          await h.measure({ ...c, ms: Math.min(ms, 100), seed: 1 }); // warm-up: JIT, spin budgets
          const xs: number[] = [];
          for (let i = 0; i < repeat; i++) xs.push(await h.measure({ ...c, ms, seed: 1 + i }));
          const ops = median(xs);
          rows.push({
            case: c.case, impl, bytes: c.bytes, opsPerSec: Math.round(ops), mbPerSec: Math.round((ops * c.bytes) / 1e5) / 10,
            placement: 'unpinned', threads: placement === 'host' ? 2 : 3, repeats: repeat,
            ...(repeat > 1 ? { spread: Math.round(((Math.max(...xs) - Math.min(...xs)) / ops) * 1000) / 1000 } : {}),
            note: `queue depth ${c.qd}, ${c.pattern}, file on the page cache`,
          });
          done++;
        }
      } finally {
        await h.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // Multiqueue: N guest threads on one disk, one queue pair each, against one pair (bench/mq).
  opts.progress?.(done, todo.length, 'multiqueue');
  rows.push(...await runMqVdisk({ quick: opts.quick, repeat, ...(opts.only ? { only: opts.only } : {}) }));
  opts.progress?.(done, todo.length, 'done');
  return rows;
}

/** The module as the bench registry expects it (bench/registry.ts: `vdisk: async () => (await import('./vdisk/index.js')).vdiskBench`). */
export const vdiskBench = {
  description: 'vdisk: 4 KiB random IOPS at queue depth 1 and 32, 1 MiB sequential MB/s; device in the host thread and in a backend',
  references: [] as Array<{ casePrefix: string; impls: string[] }>,
  run,
};

function table(rows: VdiskRow[]): string {
  const head = ['case', 'impl', 'bytes', 'ops/s', 'MB/s', 'spread'];
  const body = rows.map((r) => [r.case, r.impl, String(r.bytes), r.opsPerSec.toLocaleString('en-US'), r.mbPerSec.toFixed(1), r.spread === undefined ? '' : r.spread.toFixed(2)]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...body.map(line)].join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const ri = args.indexOf('--repeat');
  const repeat = ri >= 0 ? Number(args[ri + 1]) : 3;
  const rows = await run({ quick, repeat, progress: (d, t, l) => process.stderr.write(`[vdisk] ${d}/${t} ${l}\n`) });
  process.stdout.write(table(rows) + '\n');
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
  const out = join(root, 'bench/results/vdisk.json');
  mkdirSync(dirname(out), { recursive: true });
  const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version, os: `${process.platform} ${process.arch}`, date: new Date().toISOString() };
  writeFileSync(`${out}.tmp`, JSON.stringify({ bench: 'vdisk', machine, pinning: false, options: { quick, repeat: quick ? 1 : repeat, placement: 'both' }, rows }, null, 2) + '\n');
  renameSync(`${out}.tmp`, out);
  process.stderr.write(`[vdisk] wrote ${out}\n`);
}

/**
 * Multiqueue rows for `npm run bench -- vdisk` and `npm run bench -- venet`: N guest
 * threads (one guest and N-1 children it spawned) on one device, each driving its own
 * queue pair, against the same load through one queue pair.
 *  - vdisk `randread-4k-Nthreads-mq`: N threads, N pairs, QD 8 each; against
 *    `randread-4k-1queue-qd8N`: one thread, one pair, the same requests in flight (8N).
 *  - venet `loopback-64b-Nqueues`: N threads, N pairs of a venet-loopback, 64-byte frames;
 *    N = 1 is the single-queue row.
 * Device model in the host thread (`vbus-host`) and in a backend worker (`vbus-backend`).
 */
import { VbusHost, registerVenetClasses, vdiskClass, type GuestWorker } from '../../src/index.js';
import type { Row } from '../harness/types.js';

const GUEST_URL = new URL('./guest.js', import.meta.url);

/** A result row: the harness's Row, with the queue pairs each thread drove. */
export interface MqRow extends Row {
  impl: 'vbus-host' | 'vbus-backend';
  mbPerSec: number;
  placement: 'unpinned';
  queues: number;
  note: string;
}

type Msg = { event?: string; ids?: number[]; queues?: number; ops?: number; seconds?: number };

/** A guest's messages; the returned wait fails with the guest's error, or after 60 s. */
function inbox(g: GuestWorker): (event: string) => Promise<Msg> {
  const got: Msg[] = [];
  let wake: (() => void) | null = null;
  let failed: Error | null = null;
  g.onMessage((m) => { got.push(m as Msg); wake?.(); });
  g.onError((e) => { failed = e; wake?.(); });
  return async (event) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const i = got.findIndex((m) => m.event === event);
      if (i >= 0) return got.splice(i, 1)[0]!;
      if (failed) throw failed;
      if (Date.now() > deadline) throw new Error(`multiqueue bench: no '${event}' from guest ${g.memberId} in 60 s`);
      await new Promise<void>((r) => { wake = r; setTimeout(r, 200); });
    }
  };
}

/** One host, one device, the threads; returns aggregate ops/s over `ms` (median of `repeat` windows). Also the scale bench's `vdisk-Nguests-mq-4k` rows. */
export async function measure(cls: 'vdisk' | 'venet', placement: 'host' | 'backend', queues: number, qd: number, ms: number, repeat: number): Promise<{ ops: number; queues: number; backendThreads?: number }> {
  const host = new VbusHost();
  registerVenetClasses(host);
  host.registerClass(vdiskClass);
  const bus = host.createBus('mq', { memoryBytes: 48 << 20 });
  const dev = host.createDevice('d');
  host.setType(dev, cls === 'vdisk' ? 'vdisk' : 'venet-loopback');
  if (cls === 'vdisk') dev.setAttr('capacity', String(64 << 20));
  dev.setAttr('queues', String(queues));
  host.setPlacement(dev, placement);
  host.link(bus, dev);
  const opts = cls === 'vdisk' ? { queueDepth: Math.max(qd, 8), bufferBytes: Math.max(qd, 8) * 8192 } : { txBytes: 1 << 18, rxBytes: 1 << 18 };
  const parent = host.spawnGuest(bus, GUEST_URL, { data: { role: 'parent', cls, queues, opts } });
  const pnext = inbox(parent);
  try {
    const c = await pnext('children');
    const threads = [{ g: parent, next: pnext }, ...c.ids!.map((id) => { const g = host.connector.guest(id)!; return { g, next: inbox(g) }; })];
    const round = async (w: number): Promise<number> => {
      for (const t of threads) t.g.postMessage({ cmd: 'measure', ms: w, qd });
      const rs = await Promise.all(threads.map((t) => t.next('result')));
      return rs.reduce((s, r) => s + r.ops! / r.seconds!, 0);
    };
    await round(Math.min(ms, 100)); // warm-up: JIT, spin budgets
    const xs: number[] = [];
    for (let i = 0; i < repeat; i++) xs.push(await round(ms));
    xs.sort((a, b) => a - b);
    const backendThreads = placement === 'backend' ? host.backendThreads().length : undefined;
    for (const t of threads.slice(1)) { t.g.postMessage({ cmd: 'exit' }); await t.next('closed'); }
    parent.postMessage({ cmd: 'exit' });
    await pnext('closed');
    return { ops: xs[xs.length >> 1]!, queues: c.queues!, ...(backendThreads !== undefined ? { backendThreads } : {}) };
  } finally {
    await host.connector.release();
    host.teardown();
  }
}

const PLACEMENTS = [['vbus-host', 'host'], ['vbus-backend', 'backend']] as const;

export async function runMqVdisk(o: { quick: boolean; repeat: number; only?: RegExp }): Promise<MqRow[]> {
  const ms = o.quick ? 200 : 1000, repeat = o.quick ? 1 : o.repeat, n = 4;
  const rows: MqRow[] = [];
  for (const [impl, placement] of PLACEMENTS) {
    for (const [name, queues, qd] of [[`randread-4k-${n}threads-mq`, n, 8], [`randread-4k-1queue-qd${8 * n}`, 1, 8 * n]] as const) {
      if (o.only && !o.only.test(`${name} ${impl}`)) continue;
      const r = await measure('vdisk', placement, queues, qd, ms, repeat);
      rows.push({
        case: name, impl, bytes: 4096, opsPerSec: Math.round(r.ops), mbPerSec: Math.round((r.ops * 4096) / 1e5) / 10,
        placement: 'unpinned', threads: r.queues + (placement === 'host' ? 1 : 2), repeats: repeat, queues: r.queues,
        note: `${r.queues} guest thread(s), ${r.queues} queue pair(s), ${qd} random 4 KiB reads in flight per thread, memory disk`,
      });
    }
  }
  return rows;
}

export async function runMqVenet(o: { quick: boolean; repeat: number; only?: RegExp }): Promise<MqRow[]> {
  const ms = o.quick ? 200 : 1000, repeat = o.quick ? 1 : o.repeat;
  const rows: MqRow[] = [];
  for (const [impl, placement] of PLACEMENTS) {
    for (const n of [1, 4]) {
      const name = `loopback-64b-${n}queues`;
      if (o.only && !o.only.test(`${name} ${impl}`)) continue;
      const r = await measure('venet', placement, n, 4, ms, repeat);
      rows.push({
        case: name, impl, bytes: 64, opsPerSec: Math.round(r.ops), mbPerSec: Math.round((r.ops * 64) / 1e5) / 10,
        placement: 'unpinned', threads: r.queues + (placement === 'host' ? 1 : 2), repeats: repeat, queues: r.queues,
        note: `${r.queues} guest thread(s) on one venet-loopback, one queue pair each, 64 B frames, 4 batches of 64 in flight per thread`,
      });
    }
  }
  return rows;
}

/**
 * `npm run bench -- path`: the claim vbus rests on, measured. The same device models —
 * venet-loopback, a memory-backed vdisk, the echo model of `bench -- call` — reached
 * three ways in one run:
 *
 * - vbus-backend: the direct path. The model runs in a backend worker that blocks on its
 *                 rings; the guest's driver talks to it through shared memory only.
 * - vbus-host:    the same driver, the model in the host (main) thread, woken by
 *                 Atomics.waitAsync on its event loop.
 * - qemu-like:    the guest posts each request to the main thread by postMessage; the
 *                 host's event loop dispatches it to the same model (local-device.ts)
 *                 and posts the reply back: guest -> host kernel -> host user space ->
 *                 back, the path of a user-space emulator.
 *
 * Cases: 64 B and 1500 B frames (32 in flight), 4 KiB random reads at queue depth 1
 * and 32, 8-byte calls (one at a time). Each request is timed from submit to
 * completion in the guest; ops/s counts completed requests over the run.
 */
import { VbusHost, registerVenetClasses, vdiskClass, type GuestWorker } from '../../src/index.js';
import { median, percentile, spread } from '../harness/stats.js';
import type { BenchModule, BenchOptions, Row } from '../harness/types.js';
import { ECHO_MODEL_URL, createModel as createEcho } from '../call/echo-model.js';
import { localEcho, localLoopback, localVdisk, type LocalDevice } from './local-device.js';
import type { GuestMessage, Job, PathDevice, ReplyMessage } from './protocol.js';

const GUEST_URL = new URL('./guest.js', import.meta.url);
const DISK_BYTES = 64 << 20;

export const PATH_IMPLS = ['vbus-backend', 'vbus-host', 'qemu-like'] as const;
type Impl = (typeof PATH_IMPLS)[number];

interface PathCase { name: string; device: PathDevice; bytes: number; window: number }

const CASES: readonly PathCase[] = [
  { name: 'frame-64B', device: 'venet-loopback', bytes: 64, window: 32 },
  { name: 'frame-1500B', device: 'venet-loopback', bytes: 1500, window: 32 },
  { name: 'read-4k-qd1', device: 'vdisk', bytes: 4096, window: 1 },
  { name: 'read-4k-qd32', device: 'vdisk', bytes: 4096, window: 32 },
  { name: 'call-8B', device: 'echo', bytes: 8, window: 1 },
];

interface Result { ops: number; seconds: number; samples: Float64Array }

/** A host with one device of the case's kind on one bus, and the bench guest on it. */
async function rig(c: PathCase, impl: Impl): Promise<{ host: VbusHost; g: GuestWorker; local: LocalDevice | null }> {
  const host = new VbusHost();
  registerVenetClasses(host);
  host.registerClass(vdiskClass);
  host.registerClass({
    name: 'bench-echo',
    interfaces: ['bench-echo'],
    create: () => createEcho(null),
    backend: () => ({ modelUrl: ECHO_MODEL_URL.href, modelExport: 'createModel', init: {} }),
  });
  const bus = host.createBus('path', { memoryBytes: 16 << 20 });
  let local: LocalDevice | null = null;
  if (impl === 'qemu-like') {
    local = c.device === 'venet-loopback' ? localLoopback() : c.device === 'vdisk' ? localVdisk(DISK_BYTES) : localEcho();
  } else {
    const dev = host.createDevice('dev0');
    host.setType(dev, c.device === 'echo' ? 'bench-echo' : c.device);
    if (c.device === 'vdisk') dev.setAttr('capacity', String(DISK_BYTES));
    host.setPlacement(dev, impl === 'vbus-backend' ? 'backend' : 'host');
    host.link(bus, dev);
  }
  const g = host.spawnGuest(bus, GUEST_URL);
  return { host, g, local };
}

/** One run of one case on one impl: a warm-up job (backend start, JIT, spin budgets), then the timed one. */
async function once(c: PathCase, impl: Impl, ms: number, warmMs: number): Promise<Result> {
  const { host, g, local } = await rig(c, impl);
  try {
    const out = new Uint8Array(65536);
    return await new Promise<Result>((resolve, reject) => {
      let started = false;
      let warm = warmMs > 0;
      const job = (t: number): Job => ({ cmd: 'run', device: c.device, bytes: c.bytes, window: c.window, ms: t, mode: impl === 'qemu-like' ? 'qemu' : 'direct' });
      g.onMessage((m) => {
        const msg = m as GuestMessage;
        if (msg.event === 'request') {
          // The host's event loop dispatches the request to the model and posts the reply.
          const n = local!.handle(msg.offset, msg.payload, out);
          g.postMessage({ event: 'reply', seq: msg.seq, status: n < 0 ? n : 0, payload: out.slice(0, Math.max(0, n)) } satisfies ReplyMessage);
        } else if (msg.event === 'ready' && !started) {
          started = true;
          g.postMessage(job(warm ? warmMs : ms));
        } else if (msg.event === 'result') {
          if (warm) { warm = false; g.postMessage(job(ms)); return; }
          resolve(msg);
        } else if (msg.event === 'error') {
          reject(new Error(`path bench guest: ${msg.message}`));
        }
      });
      void g.exited.then((code) => reject(new Error(`path bench guest exited (${code})`)));
    });
  } finally {
    local?.release();
    await host.connector.release();
    host.release();
  }
}

async function run(opts: BenchOptions): Promise<Row[]> {
  const repeat = opts.quick ? 1 : opts.repeat;
  const ms = opts.quick ? 150 : 1000;
  const warmMs = opts.quick ? 50 : 300;
  const todo = CASES.flatMap((c) => PATH_IMPLS.map((impl) => ({ c, impl }))).filter(({ c, impl }) => !opts.only || opts.only.test(`${c.name} ${impl}`));
  const rows: Row[] = [];
  let done = 0;
  for (const { c, impl } of todo) {
    const runs: Result[] = [];
    for (let r = 0; r < repeat; r++) runs.push(await once(c, impl, ms, warmMs));
    const rates = runs.map((r) => r.ops / r.seconds);
    const ops = median(rates);
    rows.push({
      case: c.name, impl, bytes: c.bytes, opsPerSec: ops, mbPerSec: (ops * c.bytes) / 1e6,
      p50us: median(runs.map((r) => percentile(r.samples, 50))), p99us: median(runs.map((r) => percentile(r.samples, 99))),
      placement: 'unpinned', threads: impl === 'vbus-backend' ? 3 : 2, repeats: runs.length, spread: spread(rates),
      note: `${c.device}, ${c.window} in flight`,
    });
    opts.progress(++done, todo.length, `${c.name} ${impl}`);
  }
  return rows;
}

export const pathBench: BenchModule = {
  description: 'the direct path vs the qemu-like path: venet-loopback frames, vdisk 4 KiB reads, tiny calls reached as vbus-backend, vbus-host and qemu-like (postMessage to the host event loop)',
  references: [{ casePrefix: '', impls: ['qemu-like'] }],
  run,
};

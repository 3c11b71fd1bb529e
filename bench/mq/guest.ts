/**
 * The multiqueue bench's guest threads. The parent (start data { role: 'parent', cls,
 * queues, opts }) opens device 0 asking for `queues` pairs, spawns one child per extra
 * pair with its queue handle, and posts { event: 'children', ids, queues }. Every thread
 * (parent on pair 0, each child on its pair) answers { cmd: 'measure', ms, qd } with
 * { event: 'result', pair, ops, seconds } and { cmd: 'exit' } by leaving (children first).
 *  - vdisk: `qd` random 4 KiB reads kept in flight on the thread's pair;
 *  - venet: 64-byte frames through a loopback, a window of `qd` batches of 64 in flight,
 *    counted when they come back on the thread's pair.
 */
import {
  joinBus, openVdisk, attachVdiskQueue, openVenet, attachVenetQueue,
  type VdiskDriver, type VdiskQueueHandle, type VenetQueue, type VenetQueueHandle,
} from '../../src/index.js';

interface Start { role: 'parent' | 'child'; cls: 'vdisk' | 'venet'; queues: number; opts?: Record<string, number>; handle?: VdiskQueueHandle | VenetQueueHandle }
type Cmd = { cmd: 'measure'; ms: number; qd: number } | { cmd: 'exit' };

const guest = await joinBus();
const start = guest.data as Start;

async function diskMeasure(disk: VdiskDriver, ms: number, qd: number): Promise<number> {
  const slots = Math.floor(disk.capacity / 4096);
  let ops = 0, stop = false;
  const loop = async (k: number): Promise<void> => {
    let s = (k * 2654435761 + disk.pair * 40503 + 1) >>> 0;
    const into = new Uint8Array(4096);
    while (!stop) {
      s ^= s << 13; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
      await disk.readInto((s % slots) * 4096, into);
      ops++;
    }
  };
  const timer = setTimeout(() => { stop = true; }, ms);
  await Promise.all(Array.from({ length: qd }, (_, k) => loop(k)));
  clearTimeout(timer);
  return ops;
}

function netMeasure(q: VenetQueue, ms: number, qd: number): number {
  const f = new Uint8Array(64);
  f.set(q.mac, 0); f.set(q.mac, 6); f[12] = 0x88; f[13] = 0xb5;
  const batch = Array.from({ length: 64 }, () => f);
  let sent = 0, got = 0;
  const off = q.listen(() => { got++; });
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (sent - got < qd * 64) sent += q.sendBatch(batch);
    if (q.poll() === 0 && sent - got >= qd * 64) q.waitSync(10);
  }
  while (got < sent && q.waitSync(100)) q.poll(); // what is still in flight comes back before the next window
  off();
  return got;
}

async function serve(measure: (ms: number, qd: number) => Promise<number> | number, pair: number, close: () => void): Promise<void> {
  guest.onMessage((m) => {
    const c = m as Cmd;
    if (c.cmd === 'exit') { close(); guest.post({ event: 'closed', pair }); setTimeout(() => guest.exit(0), 0); return; }
    const t0 = performance.now();
    void Promise.resolve(measure(c.ms, c.qd)).then((ops) => guest.post({ event: 'result', pair, ops, seconds: (performance.now() - t0) / 1000 }));
  });
}

if (start.role === 'child') {
  if (start.cls === 'vdisk') {
    const d = attachVdiskQueue(guest, start.handle as VdiskQueueHandle);
    await serve((ms, qd) => diskMeasure(d, ms, qd), d.pair, () => d.close());
  } else {
    const q = attachVenetQueue(guest, start.handle as VenetQueueHandle);
    await serve((ms, qd) => netMeasure(q, ms, qd), q.pair, () => q.close());
  }
} else {
  const opts = { ...(start.opts ?? {}), queues: start.queues };
  const drv = start.cls === 'vdisk' ? openVdisk(guest, 0, opts) : openVenet(guest, 0, opts);
  const ids: number[] = [];
  for (let p = 1; p < drv.queues; p++) ids.push(await guest.spawnChild(new URL(import.meta.url), { ...start, role: 'child', handle: drv.queueHandle(p) }));
  if (start.cls === 'vdisk') await serve((ms, qd) => diskMeasure(drv as VdiskDriver, ms, qd), 0, () => drv.close());
  else await serve((ms, qd) => netMeasure(drv as VenetQueue, ms, qd), 0, () => drv.close());
  guest.post({ event: 'children', ids, queues: drv.queues });
}

/**
 * The venet benchmark's guest worker: opens venet device 0 with the real driver and
 * plays one role, then posts its count and elapsed time.
 *  - `echo`: sends `n` frames to its own MAC (a loopback returns them) and receives them.
 *  - `tx`: sends `n` frames to `dst` as fast as the TX ring takes them.
 *  - `rx`: counts frames until `n` arrived or nothing came for `idleMs`.
 * Frames go in batches of `batch` with one commit and one kick per batch.
 */
import { joinBus, openVenet } from '../../src/index.js';

interface Job { role: 'echo' | 'tx' | 'rx'; n: number; bytes: number; batch: number; dst?: string; idleMs?: number }

const guest = await joinBus();
const drv = openVenet(guest, 0, { txBytes: 1 << 20, rxBytes: 1 << 20 });
let got = 0;
let bytesIn = 0;
drv.listen((f) => { got++; bytesIn += f.length; });
guest.post({ event: 'ready', mac: drv.macText });

function frames(dst: Uint8Array, bytes: number, batch: number): Uint8Array[] {
  const f = new Uint8Array(bytes);
  f.set(dst, 0);
  f.set(drv.mac, 6);
  f[12] = 0x88; f[13] = 0xb5;
  for (let i = 14; i < bytes; i++) f[i] = i & 0xff;
  return Array.from({ length: batch }, () => f);
}

function macBytes(t: string): Uint8Array { return Uint8Array.from(t.split(':').map((h) => parseInt(h, 16))); }

guest.onMessage((m) => {
  const job = m as Job;
  const t0 = performance.now();
  let sent = 0;
  if (job.role === 'echo') {
    const fs = frames(drv.mac, job.bytes, job.batch);
    while (got < job.n) {
      const k = sent < job.n ? drv.sendBatch(fs.length <= job.n - sent ? fs : fs.slice(0, job.n - sent)) : 0;
      sent += k;
      const r = drv.poll();
      if (k === 0 && r === 0 && !drv.waitSync(2000)) break;
    }
  } else if (job.role === 'tx') {
    const fs = frames(macBytes(job.dst!), job.bytes, job.batch);
    while (sent < job.n) {
      const k = drv.sendBatch(fs.length <= job.n - sent ? fs : fs.slice(0, job.n - sent));
      sent += k;
      if (k === 0) drv.waitSpaceSync(50);
    }
  } else {
    let first = 0, last = 0;
    while (got < job.n) {
      const r = drv.poll();
      if (r > 0) { last = performance.now(); if (first === 0) first = last; continue; }
      if (!drv.waitSync(job.idleMs ?? 500) && got > 0) break;
    }
    guest.post({ event: 'done', got, bytes: bytesIn, ms: last - first });
    return;
  }
  guest.post({ event: 'done', got, sent, ms: performance.now() - t0 });
});

/**
 * The vdisk bench's guest: opens device 0 with the driver and keeps `qd` requests in
 * flight (qd independent loops, each awaiting its own request) for the given time.
 */
import { joinBus, openVdisk } from '../../src/index.js';
import { Prng } from '../../src/testing/index.js';
import type { GuestCommand, GuestReply, VdiskBenchCase } from './protocol.js';

const guest = await joinBus();
const disk = openVdisk(guest, 0, { queueDepth: 64, bufferBytes: 8 << 20, maxSegment: 1 << 20 });
const post = (m: GuestReply): void => guest.post(m);

async function measure(c: VdiskBenchCase): Promise<{ ops: number; seconds: number }> {
  const slots = Math.floor(disk.capacity / c.bytes);
  const data = new Uint8Array(c.bytes).fill(0x5a);
  let ops = 0, next = 0;
  let stop = false;
  const loop = async (k: number): Promise<void> => {
    const r = new Prng(c.seed + k * 7919);
    const into = new Uint8Array(c.bytes); // readInto: no allocation per request
    while (!stop) {
      const slot = c.pattern === 'random' ? r.below(slots) : next++ % slots;
      const off = slot * c.bytes;
      if (c.op === 'read') await disk.readInto(off, into); else await disk.write(off, data);
      ops++;
    }
  };
  const t0 = performance.now();
  const timer = setTimeout(() => { stop = true; }, c.ms);
  await Promise.all(Array.from({ length: c.qd }, (_, k) => loop(k)));
  clearTimeout(timer);
  const seconds = (performance.now() - t0) / 1000;
  return { ops, seconds };
}

guest.onMessage((m) => {
  const cmd = m as GuestCommand;
  if (cmd.cmd === 'exit') { disk.close(); setTimeout(() => guest.exit(0), 0); return; }
  measure(cmd).then(
    (r) => post({ event: 'result', case: cmd.case, ...r }),
    (e: { code?: string; message?: string }) => post({ event: 'error', code: e.code ?? 'EIO', message: String(e.message) }),
  );
});
post({ event: 'ready', capacity: disk.capacity });

/**
 * Scale bench guest on a shared vdisk: in each window keeps QD random 4 KiB reads in
 * flight and counts those completed. Start data: { ctl, qd }.
 */
import { joinBus, openVdisk } from '../../src/index.js';
import { CTL_GEN, CTL_READY, CTL_STOP, Sampler, type WindowResult } from './protocol.js';

const guest = await joinBus();
const { ctl: ctlSab, qd } = guest.data as { ctl: SharedArrayBuffer; qd: number };
const ctl = new Int32Array(ctlSab);
const disk = openVdisk(guest, 0, { queueDepth: qd, bufferBytes: qd * 8192 });
const slots = Math.floor(disk.capacity / 4096);
const sampler = new Sampler();
guest.post({ ready: true });

// This guest's event loop must keep running (completions arrive through it), so it
// waits for windows with waitAsync rather than the blocking waitWindow.
let gen = 0;
for (;;) {
  Atomics.add(ctl, CTL_READY, 1);
  while (Atomics.load(ctl, CTL_GEN) === gen) { const w = Atomics.waitAsync(ctl, CTL_GEN, gen, 1000); if (w.async) await w.value; }
  gen = Atomics.load(ctl, CTL_GEN);
  if (gen < 0) break;
  let count = 0, errors = 0;
  const loop = async (k: number): Promise<void> => {
    let s = (k * 2654435761 + gen) >>> 0;
    const into = new Uint8Array(4096);
    while (Atomics.load(ctl, CTL_STOP) !== gen) {
      s ^= s << 13; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
      const t = performance.now();
      try { await disk.readInto((s % slots) * 4096, into); count++; } catch { errors++; }
      if ((count & 7) === 0) sampler.add((performance.now() - t) * 1000);
    }
  };
  await Promise.all(Array.from({ length: qd }, (_, k) => loop(k)));
  guest.post({ count, errors, samples: sampler.take() } satisfies WindowResult);
}

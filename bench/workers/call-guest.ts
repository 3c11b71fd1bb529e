/**
 * Benchmark guest: opens device 0 and times tiny DEVCALLs (8 bytes, echoed).
 * Commands arrive by message: { n } (timed calls, returns the samples in µs) or
 * { ms } (as many calls as fit, returns the count), { pin: cpu }.
 */
import { joinBus } from '../../src/index.js';
import { pinSelf, unpinSelf } from '../harness/pin.js';

const guest = await joinBus();
const conn = guest.open(0, 1);
const payload = new Uint8Array(8).fill(7);
const out = new Uint8Array(64);

guest.onMessage((m) => {
  const cmd = m as { pin?: number; unpin?: boolean; n?: number; ms?: number; warm?: number };
  if (cmd.pin !== undefined) { guest.post({ pinned: pinSelf(cmd.pin) }); return; }
  if (cmd.unpin) { unpinSelf(); guest.post({ pinned: false }); return; }
  for (let i = 0; i < (cmd.warm ?? 0); i++) conn.callInto(1, payload, out);
  if (cmd.n !== undefined) {
    const samples = new Float64Array(cmd.n);
    let errors = 0;
    for (let i = 0; i < cmd.n; i++) {
      const t = performance.now();
      if (conn.callInto(1, payload, out) !== 8) errors++;
      samples[i] = (performance.now() - t) * 1000;
    }
    guest.post({ samples, errors, direct: conn.isDirect });
    return;
  }
  if (cmd.ms !== undefined) {
    const end = performance.now() + cmd.ms;
    let count = 0, errors = 0;
    while (performance.now() < end) {
      for (let i = 0; i < 64; i++) if (conn.callInto(1, payload, out) !== 8) errors++;
      count += 64;
    }
    guest.post({ count, errors });
  }
});
guest.post({ ready: true, direct: conn.isDirect });

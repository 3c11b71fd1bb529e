/**
 * Scale bench guest: opens device 0 (an 8-byte echo) and, in each window, calls it as
 * fast as it can; every SAMPLE_EVERY-th call is timed. Start data: { ctl }.
 */
import { joinBus } from '../../src/index.js';
import { SAMPLE_EVERY, Sampler, waitWindow, windowOver, type WindowResult } from './protocol.js';

const guest = await joinBus();
const conn = guest.open(0, 1);
const ctl = new Int32Array((guest.data as { ctl: SharedArrayBuffer }).ctl);
const payload = new Uint8Array(8).fill(7);
const out = new Uint8Array(64);
const sampler = new Sampler();
guest.post({ ready: true });

let gen = 0;
for (;;) {
  gen = waitWindow(ctl, gen);
  if (gen < 0) break;
  let count = 0, errors = 0;
  while (!windowOver(ctl, gen)) {
    for (let i = 0; i < SAMPLE_EVERY - 1; i++) if (conn.callInto(1, payload, out) !== 8) errors++;
    const t = performance.now();
    if (conn.callInto(1, payload, out) !== 8) errors++;
    sampler.add((performance.now() - t) * 1000);
    count += SAMPLE_EVERY;
  }
  guest.post({ count, errors, samples: sampler.take() } satisfies WindowResult);
}

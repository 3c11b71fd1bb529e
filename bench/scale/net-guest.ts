/**
 * Scale bench guest on a venet-switch: in each window it sends 64-byte frames to the
 * MAC it was given (the next guest's) in batches, and receives what the switch brings
 * it, counting frames received (with a span listener, which makes no object per frame). Start data: { ctl }; { dst } by message before the run.
 */
import { joinBus, openVenet } from '../../src/index.js';
import { waitWindow, windowOver, type WindowResult } from './protocol.js';

const BATCH = 32;
const guest = await joinBus();
const drv = openVenet(guest, 0, { txBytes: 256 << 10, rxBytes: 256 << 10 });
const ctl = new Int32Array((guest.data as { ctl: SharedArrayBuffer }).ctl);
let got = 0;
drv.listenSpans(() => { got++; }); // counts only: no view made per frame

const dst = await new Promise<string>((resolve) => {
  guest.onMessage((m) => { const d = (m as { dst?: string }).dst; if (d) resolve(d); });
  guest.post({ ready: true, mac: drv.macText });
});
const frame = new Uint8Array(64);
frame.set(Uint8Array.from(dst.split(':').map((h) => parseInt(h, 16))), 0);
frame.set(drv.mac, 6);
frame[12] = 0x88; frame[13] = 0xb5;
const batch = Array.from({ length: BATCH }, () => frame);
drv.sendBatch([frame]); // teaches the switch where we are
guest.post({ learned: true });

let gen = 0;
for (;;) {
  gen = waitWindow(ctl, gen);
  if (gen < 0) break;
  drv.poll();
  got = 0;
  let errors = 0;
  while (!windowOver(ctl, gen)) {
    const sent = drv.sendBatch(batch);
    const r = drv.poll();
    if (sent === 0 && r === 0) drv.waitSync(1);
  }
  drv.poll();
  guest.post({ count: got, errors, samples: new Float64Array(0) } satisfies WindowResult);
}

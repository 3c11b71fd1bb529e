// The guest Web Worker: sends frames to itself through the loopback and reports.
import { joinBus, openVenet, ETH_HEADER_BYTES } from 'vbus';

const guest = await joinBus();
const net = openVenet(guest, 0);
const frames = 32;
let back = 0;
net.onReceive((f) => {
  if (f[ETH_HEADER_BYTES] !== back % 256) return;
  back++;
  if (back === frames) { guest.post({ sent: frames, received: back, mac: net.macText }); net.close(); guest.exit(0); }
});
for (let i = 0; i < frames; i++) {
  const f = new Uint8Array(ETH_HEADER_BYTES + 64);
  f.set(net.mac, 0); // to ourselves
  f.set(net.mac, 6);
  f[12] = 0x88; f[13] = 0xb5;
  f[ETH_HEADER_BYTES] = i;
  while (!net.send(f)) await new Promise((r) => setTimeout(r, 1));
}

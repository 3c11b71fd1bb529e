// A guest on one side of the switch: announces itself by broadcast, learns the other
// guest's MAC from the first frame it receives, sends it `frames` numbered frames and
// waits for as many from it.
import { joinBus, openVenet, ETH_HEADER_BYTES } from 'vbus';

const guest = await joinBus();
const { name, frames } = guest.data;
const net = openVenet(guest, 0); // device 0 on this bus: the switch port
const BROADCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
const ETHERTYPE = 0x88b5; // IEEE local experimental

function frame(dst, seq) {
  const f = new Uint8Array(ETH_HEADER_BYTES + 4);
  f.set(dst, 0);
  f.set(net.mac, 6);
  const dv = new DataView(f.buffer);
  dv.setUint16(12, ETHERTYPE);
  dv.setUint32(ETH_HEADER_BYTES, seq);
  return f;
}

let peer = null;
let received = 0;
const done = new Promise((resolve) => {
  net.onReceive((f) => {
    const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
    if (dv.getUint16(12) !== ETHERTYPE) return;
    const seq = dv.getUint32(ETH_HEADER_BYTES);
    if (seq === 0xffffffff) { peer ??= f.slice(6, 12); return; } // a hello
    received++;
    if (received === frames) resolve();
  });
});

// Say hello until the other side has said hello back (it may start later).
while (peer === null) {
  net.send(frame(BROADCAST, 0xffffffff));
  await new Promise((r) => setTimeout(r, 20));
}
net.send(frame(BROADCAST, 0xffffffff)); // one more, in case the peer missed ours
for (let seq = 0; seq < frames; seq++) {
  while (!net.send(frame(peer, seq))) await new Promise((r) => setTimeout(r, 1)); // ring full: let the switch drain it
}
await done;
guest.post({ guest: name, mac: net.macText, sent: frames, received });
net.close();
guest.exit(0);

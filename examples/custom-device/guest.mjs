// The counter's driver, in a guest worker: probe() runs for every 'example-counter'
// device on this guest's bus, present at start or linked later.
import { joinBus } from 'vbus';

const guest = await joinBus();
const u32 = (n) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n, true); return b; };
const asU32 = (b) => new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);

guest.driver('example-counter', {
  probe(dev) {
    const conn = guest.open(dev.id, 1); // DEVOPEN, interface version 1
    for (const n of guest.data.adds) guest.post({ device: dev.id, added: n, total: asU32(conn.call(1, u32(n))) });
    try {
      conn.call(1, new Uint8Array(3)); // a bad payload: the model answers -EINVAL
    } catch (err) {
      guest.post({ refused: err.code });
    }
    conn.close();
    guest.exit(0);
  },
});

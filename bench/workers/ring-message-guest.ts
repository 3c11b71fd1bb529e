/**
 * Benchmark guest for the ring's vbus-message rows: opens device 0, sets up a TX ring,
 * and on { go } pushes `count` records of `size` bytes (record i starts with i), kicking
 * the device when the ring is full (then waiting for space) and once at the end.
 */
import { joinBus } from '../../src/index.js';

const guest = await joinBus();
const { size, count, ringBytes } = guest.data as { size: number; count: number; ringBytes: number };
const conn = guest.open(0, 1);
const tx = conn.txQueue(0, ringBytes);
const rec = new Uint8Array(size);
const first = new Uint32Array(rec.buffer, 0, 1);

guest.onMessage(() => {
  for (let i = 0; i < count; i++) {
    first[0] = i;
    while (tx.ring.push(rec) < 0) { // FULL: wake the device, then wait for space (re-check after enable)
      tx.notifyData();
      if (tx.spaceWaiter.parkSync(() => tx.ring.push(rec) >= 0, 1000) === 'ready') break;
    }
    if ((i & 63) === 63) tx.notifyData();
  }
  tx.notifyData();
});
guest.post({ ready: true });

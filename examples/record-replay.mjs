// Record a device's side of real traffic, then replay it against a fresh device of the
// same class, alone. Run: node examples/record-replay.mjs
import {
  VbusHost, vrngClass, recordDevice, encodeRecording, decodeRecording, replayRecording, SHIPPED_CLASSES,
} from 'vbus';

const host = new VbusHost();
host.registerClass(vrngClass);
const bus = host.createBus('lan0', { memoryBytes: 1 << 20 });
const dev = host.createDevice('rng0');
host.setType(dev, 'vrng');

const rec = recordDevice(dev, { maxBytes: 64 << 20 });   // before linking it
host.link(bus, dev);
const guest = host.spawnGuest(bus, new URL('./record-replay-guest.mjs', import.meta.url));
await guest.exited;                                      // the guest read entropy 10 times
host.unlink(bus, dev);
const file = encodeRecording(rec.stop());                // bytes: write them anywhere

const r = replayRecording(decodeRecording(file, 'rng0.rec'), { classes: SHIPPED_CLASSES });
console.log(`replayed ${r.steps} steps, ok: ${r.ok}, mismatches: ${r.mismatches.length}, requests: ${r.final.data.totals.requests}`);
await host.connector.release();
host.release();

/**
 * Warming the target's restore path while the pages come: the code that decodes and
 * checks a bus snapshot, and each device class's state reader, runs once here on
 * made-up input, so that at the stop it runs compiled instead of for the first time
 * (a cold decode of the test's 16 KiB state took 5.5-6.1 ms, a warm one 1.7). Everything
 * called is side-effect free: encoding and decoding a sample, the image and table
 * checks, and a class's `prepare` (which only checks and returns the change, never made
 * here) of the state its own fresh, unlinked device saves. A failure only means less
 * was warmed.
 */
import type { Device } from '../host/device.js';
import { saveDeviceState } from '../state/device-state.js';
import { checkTables } from '../connector/endpoint-tables.js';
import { SHM_RING_TO_GUEST } from '../../assembly/layout/callslot.js';
import { decodeSnapshot, encodeSnapshot, SNAPSHOT_VERSION, type BusSnapshot } from '../snapshot/format.js';
import { checkImage } from '../snapshot/bus-image.js';

/** A snapshot of every kind of part, small: one bus with an image, one member with a connection and a ring. */
function sample(): BusSnapshot {
  const ring = { id: 0, queue: 0, kind: SHM_RING_TO_GUEST, offset: 16576, bytes: 4096, dataSignal: 20992, spaceSignal: 21120 };
  return {
    version: SNAPSHOT_VERSION,
    buses: [{
      name: 'warm', memoryBytes: 1 << 20, nextId: 1, links: [{ id: 0, device: 'warm' }],
      image: {
        // A call slot, an event ring, a ring, three signals, one after the other.
        regions: [{ offset: 4096, bytes: 8192 }, { offset: 12288, bytes: 4288 }, { offset: 16576, bytes: 4288 }, { offset: 20864, bytes: 128 }, { offset: 20992, bytes: 128 }, { offset: 21120, bytes: 128 }],
        spans: [{ offset: 12288, bytes: 192 }, { offset: 16576, bytes: 4288 }], data: new Uint8Array(4480),
      },
      connector: {
        slotPayload: 4096,
        members: [{ id: 1, bit: 0, slot: 4096, slotGen: 1, events: { offset: 12288, capacity: 4096 }, eventSignal: 20864, backlog: [], conns: [{ handle: 1, deviceId: 0, version: 1, resets: 0, regions: [ring], model: { queues: 1 } }] }],
      },
    }],
    devices: [],
    members: [{ id: 1, bus: 'warm', parent: null, guest: { url: 'file:///warm.mjs', data: { n: 1 }, state: { n: [1, 2] }, connector: { devices: [], conns: [] } } }],
  };
}

/** Runs the restore path's readers once on made-up input (see the module comment); never throws. */
export function warmRestorePath(devices: readonly Device[]): void {
  try {
    const s = decodeSnapshot(encodeSnapshot(sample()), 'warm-up');
    const b = s.buses[0]!;
    checkImage(b.image!, b.memoryBytes, 'warm-up');
    checkTables(b.connector!, { slotPayload: 4096, hostDevice: () => true, placed: new Map(b.image!.regions.map((r) => [r.offset, r.bytes])) }, 'warm-up');
  } catch { /* warmed less */ }
  for (const d of devices) {
    try {
      const st = saveDeviceState(d, { withoutImages: true });
      d.deviceClass?.state?.prepare(d, st.data, st.version, st.attrs); // the change it returns is dropped, never made
    } catch { /* warmed less */ }
  }
}

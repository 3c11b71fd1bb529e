/**
 * `vbus-message` rows of `npm run bench -- ring`: the same one-way work as the
 * postMessage rows (a worker and the main thread, `size`-byte records, every record
 * delivered), carried by a vbus ring on a bus of the message transport: a guest worker
 * pushes into a TX ring (kicking the device on every FULL and once at the end), a
 * host-thread device model drains it. The ring's bytes travel in batched postMessage
 * (src/transport/); nothing is shared.
 */
import { deviceConsumer, VbusHost, type ConsumerEnd, type DeviceConnection, type GuestWorker } from '../../src/index.js';

const GUEST_URL = new URL('../workers/ring-message-guest.js', import.meta.url);
/** Ring capacity: a few records of the largest size in flight. */
const RING_BYTES = 1 << 20;

/** One run: `count` records of `size` bytes from a guest to the host; resolves with the seconds it took. */
export async function runMessageOneway(size: number, count: number): Promise<{ secs: number }> {
  let got = 0;
  let bad = 0;
  let done: (() => void) | null = null;
  const finished = new Promise<void>((r) => { done = r; });
  const scratch = new Uint8Array(Math.max(size, 8));
  const queues = new Map<number, ConsumerEnd>();
  const host = new VbusHost({ transport: 'message' });
  host.registerClass({
    name: 'bench-sink',
    interfaces: ['bench-sink'],
    create: () => ({
      shm(conn: DeviceConnection, region) { queues.set(conn.id, deviceConsumer(conn.memory, region)); },
      poll(conn: DeviceConnection) {
        const q = queues.get(conn.id);
        if (!q) return 0;
        let n = 0, len: number;
        while ((len = q.ring.pop(scratch)) >= 0) {
          if (len !== size || new Uint32Array(scratch.buffer, 0, 1)[0] !== got) bad++;
          got++; n++;
        }
        if (n > 0) q.notifySpace();
        if (got >= count) done?.();
        return n;
      },
    }),
  });
  const bus = host.createBus('bench-msg', { memoryBytes: RING_BYTES * 2 });
  host.createDevice('sink0');
  host.setType('sink0', 'bench-sink');
  host.link(bus, 'sink0');
  let g: GuestWorker | undefined;
  try {
    g = host.spawnGuest(bus, GUEST_URL, { data: { size, count, ringBytes: RING_BYTES } });
    const ready = new Promise<void>((r) => g!.onMessage((m) => { if ((m as { ready?: boolean }).ready) r(); }));
    await ready;
    const t0 = performance.now();
    g.postMessage({ go: true });
    await finished;
    const secs = (performance.now() - t0) / 1000;
    if (bad > 0) throw new Error(`vbus-message: ${bad} of ${count} records arrived wrong`);
    return { secs };
  } finally {
    await host.connector.release();
    host.release();
  }
}

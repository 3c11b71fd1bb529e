// Crash churn with memory measured: guests that hold a venet and a vdisk device open,
// with frames, disk requests and a call in flight, die at seeded random moments in seeded
// random ways (process.exit, an uncaught throw, a throw in a frame listener, an exit right
// after a burst of requests), in host and backend placement. Afterwards nothing of them
// is left on the host: no member, no connection, no region in the bus memory beyond what
// the bus had before, no running guest. RSS and JS heap are measured before and after
// (printed per crashed guest, not asserted: they depend on the machine and its load).
// N guests (40 per placement; 400 with VBUS_LONG=1), a few at a time.
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { afterEach, describe, expect, it } from 'vitest';
import { VbusHost, registerVenetClasses, vdiskClass, type Bus, type GuestWorker } from '../dist/src/index.js';

const LONG = process.env.VBUS_LONG === '1';
const N = LONG ? 400 : 40;
const AT_ONCE = 4;
const CRASHER_URL = new URL('./fixtures/guest-crasher.mjs', import.meta.url);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let host: VbusHost | undefined;
afterEach(async () => { if (host) { await host.connector.release(); host.release(); host = undefined; } });

function rig(placement: 'host' | 'backend'): { h: VbusHost; bus: Bus } {
  const h = new VbusHost();
  host = h;
  registerVenetClasses(h);
  h.registerClass(vdiskClass);
  const bus = h.createBus('churn', { memoryBytes: 16 << 20 });
  for (const [name, type, attrs] of [['lo0', 'venet-loopback', {}], ['disk0', 'vdisk', { capacity: String(1 << 20) }]] as const) {
    const d = h.createDevice(name);
    h.setType(d, type);
    for (const [k, v] of Object.entries(attrs)) d.setAttr(k, v);
    h.setPlacement(d, placement);
    h.link(bus, d);
  }
  return { h, bus };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) { await new Promise((r) => setTimeout(r, 50)); gc(); }
}

/** Runs `count` crashing guests, AT_ONCE at a time; returns how each ended. */
async function churn(h: VbusHost, bus: Bus, first: number, count: number): Promise<{ codes: Record<string, number>; ways: Record<string, number> }> {
  const codes: Record<string, number> = {};
  const ways: Record<string, number> = {};
  let next = first;
  const one = async (): Promise<void> => {
    while (next < first + count) {
      const seed = 0xc4a5 + next++;
      const g: GuestWorker = h.spawnGuest(bus, CRASHER_URL, { data: { seed } });
      g.onError(() => {}); // the crashes are the point
      g.onMessage((m) => { const w = (m as { way?: string }).way; if (w) ways[w] = (ways[w] ?? 0) + 1; });
      const ended = await Promise.race([g.exited, new Promise<null>((r) => setTimeout(() => r(null), 20_000))]);
      expect(ended, `guest ${seed} ended within 20 s`).not.toBeNull();
      const k = String(ended!.code);
      codes[k] = (codes[k] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: AT_ONCE }, one));
  return { codes, ways };
}

describe.each(['host', 'backend'] as const)('crash churn in the %s placement', (placement) => {
  it(`${N} guests die with devices open and work in flight; nothing of them is left on the host`, async () => {
    const { h, bus } = rig(placement);
    const hostErrors: unknown[] = [];
    const onErr = (e: unknown) => { hostErrors.push(e); };
    process.on('uncaughtException', onErr);
    process.on('unhandledRejection', onErr);
    try {
      await settle();
      const start = process.memoryUsage().rss;
      await churn(h, bus, 0, 8); // warm-up: the endpoint, backends, code paths and caches exist now
      await settle();
      const ep = h.connector.endpoint(bus);
      const regions = bus.memory.allocator!.regionCount();
      const used = bus.memory.allocator!.usedBytes();
      const before = process.memoryUsage();
      const t0 = Date.now();
      const { codes, ways } = await churn(h, bus, 8, N);
      const ms = Date.now() - t0;
      await settle();
      const after = process.memoryUsage();

      expect(Object.values(codes).reduce((a, b) => a + b, 0)).toBe(N);
      expect(Object.keys(ways).length, JSON.stringify(ways)).toBeGreaterThanOrEqual(3); // the seeds cover the ways to die
      expect(bus.memberCount).toBe(0);
      expect(h.stats().members).toBe(0);
      expect(h.connector.runningGuests()).toEqual([]);
      expect(ep.memberIds()).toEqual([]);
      expect(ep.connectionCount()).toBe(0);
      expect(bus.memory.allocator!.regionCount()).toBe(regions);
      expect(bus.memory.allocator!.usedBytes()).toBe(used);
      expect(hostErrors).toEqual([]);
      // The bus still serves: a guest that does not crash would open both devices (the
      // warm-up's and the churn's guests did, until they died).
      const kb = (n: number) => (n / 1024).toFixed(1);
      console.log(`crash churn (${placement}): ${N} guests in ${ms} ms, exits ${JSON.stringify(codes)}, ways ${JSON.stringify(ways)}; ` +
        `RSS ${(start / 2 ** 20).toFixed(1)} MB before any guest, ${(before.rss / 2 ** 20).toFixed(1)} after 8 warm-up guests -> ${(after.rss / 2 ** 20).toFixed(1)} MB (${kb((after.rss - before.rss) / N)} KB per crashed guest), ` +
        `JS heap ${(before.heapUsed / 2 ** 20).toFixed(1)} -> ${(after.heapUsed / 2 ** 20).toFixed(1)} MB (${kb((after.heapUsed - before.heapUsed) / N)} KB per guest), ` +
        `external ${(before.external / 2 ** 20).toFixed(1)} -> ${(after.external / 2 ** 20).toFixed(1)} MB`);
    } finally {
      process.off('uncaughtException', onErr);
      process.off('unhandledRejection', onErr);
    }
  }, LONG ? 900_000 : 120_000);
});

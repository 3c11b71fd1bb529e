// The stats region on its own: slots named and freed by the host, counters written with
// plain stores and read back by another thread (a worker attaches the same buffer and
// decodes it without the host's help), attach checks magic, version and size, a full
// region says ENOSPC, and the latency histogram buckets by powers of two.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { StatsRegion } from '../dist/src/stats/region.js';
import * as L from '../dist/src/stats/layout.js';
import { VbusError } from '../dist/src/index.js';

const REGION_URL = new URL('../dist/src/stats/region.js', import.meta.url).href;

function thrown(fn: () => unknown): VbusError {
  try { fn(); } catch (e) { if (e instanceof VbusError) return e; throw e; }
  throw new Error('expected a VbusError');
}

describe('stats region', () => {
  it('another thread reads the counters the host thread writes', async () => {
    const r = StatsRegion.create({ devices: 4, rings: 4 });
    const d = r.claimDevice('net0');
    const ring = r.claimRing(d, { bus: 'vm1', member: 7, queue: 1, direction: L.DIR_TO_GUEST, capacity: 4096 });
    d.f[L.DEV_CALLS] = 41; d.f[L.DEV_CALLS]!++;
    d.f[L.DEV_RECORDS] = 2 ** 40; // past 32 bits
    ring.f[L.RING_BYTES] = 123456; ring.f[L.RING_HIGH_WATER] = 2048;
    const w = new Worker(`
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.url).then(({ StatsRegion }) => parentPort.postMessage(StatsRegion.attach(workerData.sab).read()));
    `, { eval: true, workerData: { sab: r.sab, url: REGION_URL } });
    const seen = await new Promise<ReturnType<StatsRegion['read']>>((res, rej) => { w.once('message', res); w.once('error', rej); });
    await w.terminate();
    expect(seen.devices).toHaveLength(1);
    expect(seen.devices[0]).toMatchObject({ name: 'net0', calls: 42, records: 2 ** 40 });
    expect(seen.rings).toEqual([expect.objectContaining({ device: 'net0', bus: 'vm1', member: 7, queue: 1, direction: 'to-guest', capacity: 4096, bytes: 123456, highWater: 2048 })]);
    expect(seen).toEqual(r.read());
  });

  it('freed slots vanish from readings and come back zeroed under a new name', () => {
    const r = StatsRegion.create({ devices: 1, rings: 1 });
    const a = r.claimDevice('a');
    a.f[L.DEV_CALLS] = 5;
    const ra = r.claimRing(a, { bus: 'b', member: 1, queue: 0, direction: L.DIR_TO_DEVICE, capacity: 64 });
    expect(thrown(() => r.claimDevice('b')).code).toBe('ENOSPC');
    expect(thrown(() => r.claimRing(a, { bus: 'b', member: 1, queue: 1, direction: 0, capacity: 64 })).code).toBe('ENOSPC');
    r.releaseRing(ra);
    r.releaseDevice(a);
    expect(r.read()).toEqual({ devices: [], rings: [] });
    const b = r.claimDevice('b');
    expect(r.read().devices).toEqual([expect.objectContaining({ name: 'b', calls: 0, slot: b.slot })]);
  });

  it('attach refuses what is not a stats region of this version', () => {
    expect(thrown(() => StatsRegion.attach(new SharedArrayBuffer(16))).code).toBe('EINVAL');
    expect(thrown(() => StatsRegion.attach(new SharedArrayBuffer(4096))).message).toContain('magic');
    const r = StatsRegion.create({ devices: 1, rings: 1 });
    new Uint32Array(r.sab)[L.HDR_OFF_VERSION >> 2] = L.STATS_VERSION + 1;
    const e = thrown(() => StatsRegion.attach(r.sab));
    expect(e.code).toBe('EPROTO');
    expect(e.message).toContain(`version ${L.STATS_VERSION + 1}`);
    const small = new SharedArrayBuffer(L.HEADER_BYTES);
    new Uint8Array(small).set(new Uint8Array(r.sab, 0, L.HEADER_BYTES));
    new Uint32Array(small)[L.HDR_OFF_VERSION >> 2] = L.STATS_VERSION;
    expect(thrown(() => StatsRegion.attach(small)).message).toContain('its header needs');
  });

  it('latency samples land in log2 buckets of microseconds', () => {
    const r = StatsRegion.create({ devices: 1, rings: 1 });
    const d = r.claimDevice('x');
    for (const us of [0.5, 1, 3, 3.9, 1000, 1e12]) d.latency(us);
    const h = r.read().devices[0]!.latencyHistogram;
    expect(h[0]).toBe(1); // < 1 us
    expect(h[1]).toBe(1); // [1, 2)
    expect(h[2]).toBe(2); // [2, 4)
    expect(h[10]).toBe(1); // [512, 1024)
    expect(h[L.HIST_BUCKETS - 1]).toBe(1); // the rest
    expect(r.read().devices[0]!.latencySamples).toBe(6);
  });
});

// vrng through its guest driver in real workers: exact lengths, no repeats, sane
// statistics, the quota's token bucket, and per-bus privacy (bytes served on bus A never
// appear in bus B's memory; each bus has its own counters and bucket).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TRANSPORTS, type Transport } from './helpers/transports.js';
import { VbusHost, vrngClass, EntropyModel, type Bus, type Device } from '../dist/src/internal.js';
import { TokenBucket } from '../dist/src/devices/vrng/token-bucket.js';
import { drive, type Scripted } from './helpers/scripted.js';

const GUEST_URL = new URL('./fixtures/guest-devices.mjs', import.meta.url);

let host: VbusHost | undefined;
/** The transport of the suite running now (setup() makes its buses on it). */
let transport: Transport = 'shared';
afterEach(async () => {
  if (host) { await host.connector.release(); host.release(); host = undefined; }
});

function setup(buses: string[], quota?: string): { host: VbusHost; bus: Bus[]; dev: Device; model: EntropyModel } {
  host = new VbusHost({ transport });
  host.registerClass(vrngClass);
  const dev = host.createDevice('rng0');
  host.setType(dev, 'vrng');
  if (quota !== undefined) dev.setAttr('quota_bytes_per_s', quota);
  const bus = buses.map((name) => { const b = host!.createBus(name, { memoryBytes: 1 << 20 }); host!.link(b, dev); return b; });
  return { host, bus, dev, model: dev.model as EntropyModel };
}

async function rngGuest(h: VbusHost, bus: Bus): Promise<Scripted & { perCall: number }> {
  const g = drive(h.spawnGuest(bus, GUEST_URL));
  const ready = await g.waitEvent((e) => e.event === 'ready');
  expect(ready.devices).toEqual([{ id: 0, type: 'virtual-entropy' }]);
  const r = await g.cmd('rngOpen', { dev: 0 });
  expect(r.ok).toBe(true);
  return Object.assign(g, { perCall: r.perCall as number });
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Offsets in `hay` where any of the 32-byte `needles` starts (indexed by their first 4 bytes). */
function findAny(hay: Uint8Array, needles: Uint8Array[]): number[] {
  const byPrefix = new Map<number, Uint8Array[]>();
  const dv = new DataView(hay.buffer, hay.byteOffset, hay.byteLength);
  for (const n of needles) {
    const k = new DataView(n.buffer, n.byteOffset, 4).getUint32(0, true);
    byPrefix.set(k, [...(byPrefix.get(k) ?? []), n]);
  }
  const hits: number[] = [];
  for (let i = 0; i + 32 <= hay.length; i++) {
    const cands = byPrefix.get(dv.getUint32(i, true));
    if (!cands) continue;
    for (const n of cands) {
      let j = 4;
      while (j < 32 && hay[i + j] === n[j]) j++;
      if (j === 32) hits.push(i);
    }
  }
  return hits;
}

describe.each(TRANSPORTS)('vrng on the %s transport', (t) => {
  beforeEach(() => { transport = t; });

  describe('vrng: bytes from the host CSPRNG through the guest driver', () => {
    it('returns exactly the bytes asked for, different on every call (1000 x 32 B sync, 200 x 32 B async)', async () => {
      const { host, bus, dev } = setup(['r']);
      const g = await rngGuest(host, bus[0]!);
      const sync = (await g.cmd('rngCalls', { n: 1000, len: 32, mode: 'sync' })).bytes as Uint8Array;
      const asyncB = (await g.cmd('rngCalls', { n: 200, len: 32, mode: 'async' })).bytes as Uint8Array;
      expect(sync.length).toBe(32_000);
      expect(asyncB.length).toBe(6_400);
      const seen = new Set<string>();
      for (const all of [sync, asyncB]) for (let i = 0; i < all.length; i += 32) seen.add(hex(all.subarray(i, i + 32)));
      expect(seen.size).toBe(1200);
      // odd sizes and requests larger than one call slot are split and filled exactly
      for (const len of [0, 1, 7, g.perCall - 1, g.perCall, g.perCall + 1, 3 * g.perCall + 5]) {
        const r = (await g.cmd('rngCalls', { n: 1, len, mode: 'async' })).bytes as Uint8Array;
        expect(r.length).toBe(len);
        if (len >= 64) expect(r.some((b) => b !== 0)).toBe(true);
      }
      expect(Number(dev.attr('requests'))).toBeGreaterThanOrEqual(1200);
    });

    it('is statistically sane: 4 MiB pass a byte chi-square and a bit-balance check with wide margins', async () => {
      const { host, bus } = setup(['r']);
      const g = await rngGuest(host, bus[0]!);
      const n = 4 << 20;
      const b = (await g.cmd('rngCalls', { n: 64, len: n / 64, mode: 'sync' })).bytes as Uint8Array;
      expect(b.length).toBe(n);
      const counts = new Float64Array(256);
      let ones = 0;
      for (let i = 0; i < n; i++) { counts[b[i]!]++; let v = b[i]!; while (v) { ones += v & 1; v >>= 1; } }
      const e = n / 256;
      let chi = 0;
      for (const c of counts) chi += ((c - e) * (c - e)) / e;
      // 255 degrees of freedom: mean 255, sd ~22.6; 450 is more than 8 sd out (never for a real CSPRNG)
      expect(chi).toBeLessThan(450);
      expect(chi).toBeGreaterThan(120); // too uniform would be just as suspicious
      const frac = ones / (n * 8);
      expect(Math.abs(frac - 0.5)).toBeLessThan(0.002); // sd is 0.00012 at 33.5 M bits
    });
  });

  describe('vrng: quota', () => {
    it('a call gets at most what the bucket holds; a long read is paced by the quota', async () => {
      const quota = 2048;
      const { host, bus, dev, model } = setup(['r'], String(quota));
      const g = await rngGuest(host, bus[0]!);
      expect(g.perCall).toBeGreaterThan(quota); // so the cap below comes from the quota, not the slot
      const first = (await g.cmd('rngRaw', { n: g.perCall })).k as number;
      expect(first).toBeGreaterThan(0);
      expect(first).toBeLessThanOrEqual(quota);

      const t0 = performance.now();
      const total = 3 * quota;
      const r = await g.cmd('rngCalls', { n: 1, len: total, mode: 'async' });
      const elapsed = (performance.now() - t0) / 1000;
      expect((r.bytes as Uint8Array).length).toBe(total);
      // A token bucket of `quota` bytes refilled at `quota` per second can never hand out
      // more than quota * (1 + t) in t seconds; the bucket was already drained above.
      expect(total).toBeLessThanOrEqual(quota * (1 + elapsed));
      expect(elapsed).toBeGreaterThan(2); // 6 KiB at 2 KiB/s from an empty bucket needs 3 s of refill (load only slows it)
      expect(model.busStats('r')!.bytesServed).toBe(first + total);
      expect(Number(dev.attr('bytes_served'))).toBe(first + total);
    });

    it('refuses bad quota values with the value unchanged; 0 means unlimited', async () => {
      const { dev, model } = setup(['r'], '100');
      for (const bad of ['-1', '1.5', 'lots', '', '99999999999']) {
        expect(() => dev.setAttr('quota_bytes_per_s', bad)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
      }
      expect(dev.attr('quota_bytes_per_s')).toBe('100');
      expect(model.quotaBytesPerSecond).toBe(100);
      expect(() => dev.setAttr('bytes_served', '0')).toThrow(expect.objectContaining({ code: 'EACCES' }));
      dev.setAttr('quota_bytes_per_s', ' 0 ');
      expect(dev.attr('quota_bytes_per_s')).toBe('0');
      expect(model.quotaBytesPerSecond).toBe(0);
    });

    it('token bucket arithmetic (clock passed in): burst, refill, cap, rate change, clock going back', () => {
      const b = new TokenBucket(1000, 0);
      expect(b.take(5000, 0)).toBe(1000);
      expect(b.take(10, 0)).toBe(0);
      expect(b.take(5000, 250)).toBe(250);
      expect(b.take(5000, 100)).toBe(0); // the clock went back: nothing granted
      expect(b.take(5000, 10_000)).toBe(1000); // refill caps at one second's worth
      b.setRate(0, 10_000);
      expect(b.take(1 << 20, 10_000)).toBe(1 << 20);
      b.setRate(10, 10_000);
      expect(b.take(100, 10_000)).toBe(10);
    });
  });

  describe('vrng: entropy stays private to the bus that consumes it', () => {
    it('bytes served to bus A never appear in bus B\'s memory; counters and buckets are per bus', async () => {
      const { host, bus, dev, model } = setup(['A', 'B']);
      const [busA, busB] = bus as [Bus, Bus];
      const gA = await rngGuest(host, busA);
      const gB = await rngGuest(host, busB);
      const fromA = (await gA.cmd('rngCalls', { n: 1000, len: 32, mode: 'sync' })).bytes as Uint8Array;
      const fromB = (await gB.cmd('rngCalls', { n: 100, len: 32, mode: 'sync' })).bytes as Uint8Array;
      const seqA = Array.from({ length: 1000 }, (_, i) => fromA.subarray(i * 32, i * 32 + 32));
      const seqB = Array.from({ length: 100 }, (_, i) => fromB.subarray(i * 32, i * 32 + 32));

      // positive control: the last reply A got is still in A's call slot, so the scan can find it
      expect(findAny(busA.memory.u8, [seqA[999]!]).length).toBeGreaterThan(0);
      // none of A's 1000 sequences is anywhere in B's memory, and none of B's in A's
      expect(findAny(busB.memory.u8, seqA)).toEqual([]);
      expect(findAny(busA.memory.u8, seqB)).toEqual([]);

      expect(model.busStats('A')).toEqual({ bytesServed: 32_000, requests: 1000 });
      expect(model.busStats('B')).toEqual({ bytesServed: 3_200, requests: 100 });
      expect(dev.attr('bytes_served')).toBe('35200');
      expect(dev.attr('requests')).toBe('1100');

      // each bus has its own bucket: draining A's leaves B's full
      dev.setAttr('quota_bytes_per_s', '1000');
      expect(gA.perCall).toBeGreaterThan(1000);
      const t0 = performance.now();
      expect((await gA.cmd('rngRaw', { n: 1000 })).k).toBe(1000);
      const again = (await gA.cmd('rngRaw', { n: 1000 })).k as number;
      const ms = performance.now() - t0;
      // refilled at most 1 byte per ms since the first call; a bound from the measured time, so load cannot break it
      expect(again === -11 ? 0 : again).toBeLessThanOrEqual(Math.ceil(ms) + 1);
      expect((await gB.cmd('rngRaw', { n: 1000 })).k).toBe(1000);
    });
  });

  describe('vrng: a hostile or confused guest', () => {
    it('short payloads, unknown functions and other versions are refused with errno values, state unchanged', async () => {
      const { host, bus, model } = setup(['r']);
      const g = await rngGuest(host, bus[0]!);
      expect((await g.cmd('rngForge', { func: 1, len: 3 })).k).toBe(-22);
      expect((await g.cmd('rngForge', { func: 99, len: 4 })).k).toBe(-38);
      expect((await g.cmd('rngForge', { func: 1, len: 4 })).k).toBe(0); // n = 0: nothing asked, nothing served
      expect(await g.cmd('openVersion', { dev: 0, version: 2 })).toMatchObject({ opened: false, code: 'ENOTSUP' });
      expect(model.busStats('r')!.bytesServed).toBe(0);
    });
  });
});

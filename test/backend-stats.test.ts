// Stats for backend-placed devices: the pool thread wraps the model with the same
// observer the host uses, counting into the slots the host assigned in the shared stats
// region, so a reading on the host shows a backend device's calls, records and ring
// bytes, and they match what the device counts itself.
import { afterEach, describe, expect, it } from 'vitest';
import { VbusHost, vdiskClass } from '../dist/src/index.js';
import { HostStats } from '../dist/src/stats/host-stats.js';
import { drive } from './helpers/scripted.js';
import { SCRIPTED_URL } from './helpers/scripted.js';
import { randomOps, VDISK_GUEST_URL } from './helpers/vdisk-workload.js';
// @ts-expect-error plain ESM fixture
import { echoClass } from './fixtures/echo-backend-model.mjs';

let host: VbusHost | undefined;
afterEach(async () => {
  if (host) { await host.connector.release(); host.release(); host = undefined; }
});

describe('stats of backend-placed devices', () => {
  it('an echo device in a pool thread counts its calls, call bytes, records and ring bytes', async () => {
    host = new VbusHost();
    const stats = new HostStats(host);
    host.registerClass(stats.observe(echoClass));
    const bus = host.createBus('sb', { memoryBytes: 1 << 21 });
    const dev = host.createDevice('echoB');
    host.setType(dev, 'test-echo-dev');
    host.setPlacement(dev, 'backend');
    host.link(bus, dev);
    const g = drive(host.spawnGuest(bus, SCRIPTED_URL, { data: { type: 'test-echo' } }));
    await g.waitEvent((e) => e.event === 'probe');
    const { handle } = await g.cmd('open', { dev: 0 });
    expect(await g.cmd('whereami', { handle })).toMatchObject({ where: 'backend', direct: true });
    const before = stats.read().devices.find((d) => d.name === 'echoB')!;
    expect(before).toBeDefined();
    expect((await g.cmd('calls', { handle, func: 1, n: 100, len: 8 })).ok).toBe(100);
    const r = await g.cmd('call', { handle, func: 1, len: 200, seed: 3 });
    expect(r.sum).toBe(r.expect);
    expect(await g.cmd('loop', { handle, n: 50, len: 48 })).toMatchObject({ got: 50, bad: 0 });
    const after = stats.read();
    const d = after.devices.find((x) => x.name === 'echoB')!;
    // whereami's call (func 6) is counted too; its reply is the 7 bytes 'backend'.
    expect(d.calls - before.calls).toBe(101);
    expect(d.callBytesIn - before.callBytesIn).toBe(100 * 8 + 200);
    expect(d.callBytesOut - before.callBytesOut).toBe(100 * 8 + 200);
    expect(d.records).toBe(50); // one per record the model copied through
    expect(d.polls).toBeGreaterThan(0);
    const rings = after.rings.filter((x) => x.device === 'echoB');
    expect(rings.map((x) => x.direction).sort()).toEqual(['to-device', 'to-guest']);
    for (const ring of rings) { expect(ring.bus).toBe('sb'); expect(ring.bytes).toBeGreaterThan(50 * 48); }
    // Closing the connection frees its ring slots (the host owns the free lists).
    await g.cmd('close', { handle });
    await new Promise((res) => setTimeout(res, 200));
    expect(stats.read().rings.filter((x) => x.device === 'echoB')).toEqual([]);
  });

  it('a vdisk in a pool thread: its records are the reads, writes and flushes it counts itself, and the barriers', async () => {
    host = new VbusHost();
    const stats = new HostStats(host);
    host.registerClass(stats.observe(vdiskClass));
    const bus = host.createBus('sd', { memoryBytes: 16 << 20 });
    const dev = host.createDevice('diskB');
    host.setType(dev, 'vdisk');
    dev.setAttr('capacity', '1M');
    host.setPlacement(dev, 'backend');
    host.link(bus, dev);
    const g = drive(host.spawnGuest(bus, VDISK_GUEST_URL));
    await g.waitEvent((e) => e.event === 'ready');
    expect(await g.cmd('open', { dev: 0, queueDepth: 16 })).toMatchObject({ ok: true });
    const ops = randomOps(77, { capacity: 1 << 20, blockSize: 512, n: 400, maxBlocks: 8, bigBytes: 0 });
    expect((await g.cmd('run', { dev: 0, ops, seed: 77, window: 16 })).errors).toEqual([]);
    const d = stats.read().devices.find((x) => x.name === 'diskB')!;
    const kinds = (k: string) => ops.filter((o) => o[0] === k).length;
    // A record per completed request: the disk's own reads, writes and flushes, and the barriers (which it does not count).
    expect(d.records).toBe(ops.length);
    expect(d.own).toMatchObject({ reads: kinds('r'), writes: kinds('w'), flushes: kinds('f') });
    expect(d.records).toBe(d.own['reads']! + d.own['writes']! + d.own['flushes']! + kinds('b'));
    expect(stats.read().rings.filter((x) => x.device === 'diskB' && x.direction === 'to-device')[0]!.bytes).toBeGreaterThan(0);
  });
});

// The vdisk guest driver against a device that completes every batch in reverse order:
// completions are matched by id, read data lands in the right arrays, and a random
// workload with 32 in flight still matches its shadow.
import { afterEach, describe, expect, it } from 'vitest';
import { VbusHost } from '../dist/src/index.js';
import { drive } from './helpers/scripted.js';
import { randomOps, replay, VDISK_GUEST_URL } from './helpers/vdisk-workload.js';
// @ts-expect-error plain ESM fixture
import { createReorderModel, REORDER_CAPACITY } from './fixtures/vdisk-reorder-model.mjs';

let host: VbusHost | undefined;
afterEach(async () => {
  if (host) { await host.connector.release(); host.teardown(); host = undefined; }
});

describe('vdisk driver', () => {
  it('matches completions that arrive in reverse order to their requests', async () => {
    host = new VbusHost();
    let model: { reversed: number } | undefined;
    host.registerClass({ name: 'vdisk-reorder', interfaces: ['virtual-block'], create: () => (model = createReorderModel()) });
    const bus = host.createBus('o', { memoryBytes: 8 << 20 });
    const dev = host.createDevice('r0');
    host.setType(dev, 'vdisk-reorder');
    host.link(bus, dev);
    const g = drive(host.spawnGuest(bus, VDISK_GUEST_URL));
    await g.waitEvent((e) => e.event === 'ready');
    expect(await g.cmd('open', { dev: 0, queueDepth: 32, bufferBytes: 512 << 10 })).toMatchObject({ ok: true, capacity: REORDER_CAPACITY });
    const seed = 2024;
    const ops = randomOps(seed, { capacity: REORDER_CAPACITY, blockSize: 512, n: 2000, maxBlocks: 16, bigBytes: 384 << 10 });
    const shadow = new Uint8Array(REORDER_CAPACITY);
    const expected = replay(ops, seed, shadow);
    const r = await g.cmd('run', { dev: 0, ops, seed, window: 32 });
    expect(r.errors).toEqual([]);
    expect(r.hashes).toEqual(expected);
    expect(r.stats.spurious).toBe(0);
    expect(model!.reversed).toBeGreaterThan(0); // batches really came back reversed
    const all = await g.cmd('readAll', { dev: 0 });
    expect(Buffer.compare(Buffer.from(all.bytes), Buffer.from(shadow))).toBe(0);
  });
});

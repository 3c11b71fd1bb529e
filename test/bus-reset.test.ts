// The admin's bus reset at the connector level (BusEndpoint.resetBus, what
// `1` > /sys/vbus/instances/BUS/reset and Bus.reset() run): a call in flight ends with
// ECONNRESET instead of hanging, and a guest whose call slot header was overwritten gets
// its slot back (the host's own generation), so its calls work again without rejoining.
import { afterEach, describe, expect, it } from 'vitest';
import { SLOT_OFF_MAGIC, SLOT_OFF_GEN } from '../dist/assembly/layout/callslot.js';
import type { ConnectorModel } from '../dist/src/index.js';
import { makeBus, releaseBuses } from './helpers/endpoint-bus.js';

afterEach(releaseBuses);

/** func 1 echoes; func 2 never answers. */
const stallModel: ConnectorModel = {
  call(_c, func, payload, out) {
    if (func === 1) { out.set(payload.slice()); return payload.length; }
    if (func === 2) return new Promise<number>(() => {});
    return -38;
  },
};

describe('admin bus reset (connector regions, not the bus)', () => {
  it('a call in flight ends ECONNRESET, the slot serves the next call', async () => {
    const { ep, spawn } = makeBus('rst-inflight');
    ep.addDevice(0, 'test-echo', stallModel);
    const g = spawn(1);
    await g.waitEvent((e) => e.event === 'ready');
    const { handle } = await g.cmd('open', { dev: 0 });
    const stuck = g.cmd('callAsync', { handle, func: 2, len: 8, timeoutMs: 25_000 });
    await new Promise((r) => setTimeout(r, 200)); // the host holds it now
    const report = ep.resetBus();
    expect(report).toMatchObject({ callsEnded: 1, members: 1 });
    expect(await stuck).toMatchObject({ ok: false, error: 'ECONNRESET' });
    expect(await g.cmd('call', { handle, func: 1, len: 64, seed: 4 })).toMatchObject({ ok: true, len: 64 });
  });

  it('a guest that overwrote its own slot magic and generation (ENODEV) is served again after the reset', async () => {
    const { ep, spawn } = makeBus('rst-slot');
    ep.addDevice(0, 'test-echo', stallModel);
    const g = spawn(1);
    await g.waitEvent((e) => e.event === 'ready');
    const { handle } = await g.cmd('open', { dev: 0 });
    await g.cmd('poke', { region: 'slot', at: SLOT_OFF_MAGIC, value: 0 });
    await g.cmd('poke', { region: 'slot', at: SLOT_OFF_GEN, value: 0x1234 });
    expect(await g.cmd('call', { handle, func: 1, len: 8, timeoutMs: 2000 })).toMatchObject({ ok: false, error: 'ENODEV' });
    const other = spawn(2);
    await other.waitEvent((e) => e.event === 'ready');
    const h2 = (await other.cmd('open', { dev: 0 })).handle;
    ep.resetBus();
    expect(await g.cmd('call', { handle, func: 1, len: 32, seed: 2 })).toMatchObject({ ok: true, len: 32 });
    expect(await other.cmd('call', { handle: h2, func: 1, len: 32, seed: 3 })).toMatchObject({ ok: true, len: 32 });
    expect(ep.faultStats.busResets).toBe(1);
  });
});

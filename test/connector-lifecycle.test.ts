import { afterEach, describe, expect, it } from 'vitest';
import { wire } from '../dist/src/internal.js';
import { SCRIPTED_URL, type Scripted } from './helpers/scripted.js';
import { makeBus as makeBusOn, releaseBuses } from './helpers/endpoint-bus.js';
import { TRANSPORTS } from './helpers/transports.js';
// @ts-expect-error plain ESM fixture
import { echoModel } from './fixtures/echo-model.mjs';

afterEach(releaseBuses);

async function ready(g: Scripted) { return g.waitEvent((e) => e.event === 'ready'); }

describe.each(TRANSPORTS)('connector: hotplug, unplug, crashes (%s transport)', (transport) => {
  const makeBus = (name: string) => makeBusOn(name, undefined, { transport });

  it('calls probe/remove as devices are linked and unlinked while the guest runs', async () => {
    const { ep, spawn } = makeBus('hotplug');
    const g = spawn(1);
    expect((await ready(g)).devices).toEqual([]);
    ep.addDevice(3, 'test-echo', echoModel());
    await g.waitEvent((e) => e.event === 'probe' && e.id === 3);
    ep.addDevice(4, 'test-echo', echoModel());
    await g.waitEvent((e) => e.event === 'probe' && e.id === 4);
    ep.removeDevice(3);
    await g.waitEvent((e) => e.event === 'remove' && e.id === 3);
    expect((await g.cmd('devices')).devices).toEqual([{ id: 4, type: 'test-echo' }]);
    expect(await g.cmd('open', { dev: 3 })).toMatchObject({ ok: false, error: 'ENOENT' });
  });

  it('unplug with calls in flight answers ENODEV at once, later calls fail ENODEV, no hang', async () => {
    const { ep, spawn } = makeBus('unplug');
    const model = echoModel();
    ep.addDevice(0, 'test-echo', model);
    const a = spawn(1);
    const b = spawn(2);
    await ready(a); await ready(b);
    const ha = (await a.cmd('open', { dev: 0 })).handle;
    const hb = (await b.cmd('open', { dev: 0 })).handle;
    const syncInFlight = a.cmd('call', { handle: ha, func: 4 }); // never answered by the model
    const asyncInFlight = b.cmd('callAsync', { handle: hb, func: 4 });
    await new Promise((r) => setTimeout(r, 100));
    ep.removeDevice(0);
    expect(await syncInFlight).toMatchObject({ ok: false, error: 'ENODEV' });
    expect(await asyncInFlight).toMatchObject({ ok: false, error: 'ENODEV' });
    await a.waitEvent((e) => e.event === 'remove' && e.id === 0);
    expect(await a.cmd('call', { handle: ha, func: 1, len: 4 })).toMatchObject({ ok: false, error: 'ENODEV' });
    expect(await b.cmd('callAsync', { handle: hb, func: 1, len: 4 })).toMatchObject({ ok: false, error: 'ENODEV' });
    expect(model.log.filter((l: unknown[]) => l[0] === 'close')).toHaveLength(2);
    // closing a handle of an unplugged device is allowed and frees it
    expect(await a.cmd('close', { handle: ha })).toMatchObject({ ok: true });
  });

  it('survives a guest crash mid-call and mid-ring; the device is reusable by a new guest', async () => {
    const { ep, mem, spawn } = makeBus('crash');
    const model = echoModel();
    ep.addDevice(0, 'test-echo', model);
    const freeBefore = mem.allocator!.freeBytes();
    const g = spawn(1);
    await ready(g);
    const h = (await g.cmd('open', { dev: 0 })).handle;
    await g.cmd('txPush', { handle: h, queue: 0, bytes: 4096, n: 3, len: 64 });
    await g.cmd('crashInCall', { handle: h, func: 4, afterMs: 50 });
    const { code } = await g.guest.exited;
    expect(code).not.toBe(0);
    await new Promise((r) => setTimeout(r, 20));
    expect(ep.memberIds()).toEqual([]);
    expect(ep.connectionCount()).toBe(0);
    expect(model.log.filter((l: unknown[]) => l[0] === 'close')).toHaveLength(1);
    expect(mem.allocator!.freeBytes()).toBe(freeBefore); // slot, event ring, rings, signals all returned
    const g2 = spawn(2);
    await ready(g2);
    const h2 = (await g2.cmd('open', { dev: 0 })).handle;
    const r = await g2.cmd('call', { handle: h2, func: 1, len: 100, seed: 5 });
    expect(r).toMatchObject({ ok: true, len: 100 });
    expect(r.sum).toBe(r.expect);
  });

  it('an uncaught exception in a guest is noticed the same way', async () => {
    const { ep, spawn } = makeBus('throw');
    ep.addDevice(0, 'test-echo', echoModel());
    const g = spawn(1);
    await ready(g);
    await g.cmd('open', { dev: 0 });
    await g.cmd('crash');
    expect((await g.guest.exited).code).not.toBe(0);
    await new Promise((r) => setTimeout(r, 20));
    expect(ep.memberIds()).toEqual([]);
    expect(ep.connectionCount()).toBe(0);
  });

  it('a guest that never reads its events cannot make the host queue without bound, and resyncs when it reads again', async () => {
    const { ep, spawn } = makeBus('deaf');
    ep.addDevice(1, 'test-echo', echoModel());
    ep.addDevice(2, 'test-echo', echoModel());
    const deaf = spawn(1);
    const live = spawn(2);
    await ready(deaf); await ready(live);
    await deaf.waitEvent((e) => e.event === 'probe' && e.id === 2);
    await deaf.cmd('stopEvents');
    // 6,000 events in chunks, with pauses the live guest uses to drain. For the deaf one
    // the ring fills, the backlog reaches EVENT_BACKLOG_MAX and is replaced by a resync.
    for (let chunk = 0; chunk < 100; chunk++) {
      for (let i = 0; i < 30; i++) { ep.addDevice(7, 'test-echo', echoModel()); ep.removeDevice(7); }
      await new Promise((r) => setTimeout(r, 5));
    }
    ep.removeDevice(1); // happens while the deaf guest is not listening
    ep.addDevice(3, 'test-echo', echoModel());
    const st = ep.memberEventStats(1);
    expect(st.resyncs).toBeGreaterThan(0);
    expect(st.queued).toBeLessThanOrEqual(4096);
    expect(st.dropped).toBeGreaterThan(1000);
    expect(ep.memberEventStats(2)).toMatchObject({ dropped: 0, resyncs: 0 });
    // The live guest saw every add and remove, and the bus keeps working.
    await live.waitEvent((e) => e.event === 'probe' && e.id === 3).catch(() => { throw new Error(`live guest saw ${live.events.length} events, not the probe of device 3`); });
    expect(live.events.filter((e) => e.event === 'probe' && e.id === 7)).toHaveLength(3000);
    const h = (await live.cmd('open', { dev: 3 })).handle;
    expect(await live.cmd('call', { handle: h, func: 1, len: 16 })).toMatchObject({ ok: true, len: 16 });
    // When the deaf guest reads again, the resync brings its view up to date: device 1 is
    // removed, device 3 probed, device 2 (still there) not probed twice.
    await deaf.cmd('startEvents');
    await deaf.waitEvent((e) => e.event === 'probe' && e.id === 3, 20_000).catch(() => { throw new Error(`deaf guest saw ${deaf.events.length} events after resuming, not the probe of device 3`); });
    await deaf.waitEvent((e) => e.event === 'remove' && e.id === 1);
    expect((await deaf.cmd('devices')).devices).toEqual([{ id: 2, type: 'test-echo' }, { id: 3, type: 'test-echo' }]);
    expect(deaf.events.filter((e) => e.event === 'probe' && e.id === 2)).toHaveLength(1);
  });

  it('a child spawned by a guest inherits its bus', async () => {
    const { ep, spawn, children } = makeBus('inherit');
    ep.addDevice(0, 'test-echo', echoModel());
    const g = spawn(1);
    await ready(g);
    const { memberId } = await g.cmd('spawnChild', { url: SCRIPTED_URL.href });
    expect(memberId).toBeGreaterThanOrEqual(1000);
    const child = children.get(memberId)!;
    const cr = await ready(child);
    expect(cr.memberId).toBe(memberId);
    expect(cr.devices).toEqual([{ id: 0, type: 'test-echo' }]);
    expect((await child.cmd('memories')).busName).toBe('inherit');
    expect(ep.memberIds().sort((x, y) => x - y)).toEqual([1, memberId]);
    const h = (await child.cmd('open', { dev: 0 })).handle;
    expect(await child.cmd('call', { handle: h, func: 1, len: 10 })).toMatchObject({ ok: true, len: 10 });
  });
});

describe.each(TRANSPORTS)('connector: isolation between buses (%s transport)', (transport) => {
  const makeBus = (name: string) => makeBusOn(name, undefined, { transport });

  it('forged ids, handles, opcodes and lengths get ENOENT/EINVAL and have no effect on another bus', async () => {
    const A = makeBus('bus-a');
    const B = makeBus('bus-b');
    const modelA = echoModel();
    const modelB = echoModel();
    A.ep.addDevice(0, 'test-echo', modelA);
    B.ep.addDevice(0, 'test-echo', modelB);
    B.ep.addDevice(5, 'test-echo', modelB);
    const a = A.spawn(1);
    const b = B.spawn(2);
    await ready(a); await ready(b);
    const hb = (await b.cmd('open', { dev: 5 })).handle; // valid on bus B only
    const ha = (await a.cmd('open', { dev: 0 })).handle;
    const openBefore = modelB.log.length;
    const st = async (args: Record<string, unknown>) => (await a.cmd('forge', args)).status as number;
    expect(await st({ op: wire.OP_DEVOPEN, devId: 5 })).toBe(-2); // id valid on B: ENOENT on A
    expect(await st({ op: wire.OP_DEVOPEN, devId: 255 })).toBe(-2);
    expect(await st({ op: wire.OP_DEVOPEN, devId: 0xffffffff })).toBe(-2);
    expect(await st({ op: wire.OP_DEVCALL, handle: hb + 7, func: 1 })).toBe(-2); // unknown handle
    expect(await st({ op: wire.OP_DEVCALL, handle: 0xffffffff, func: 1 })).toBe(-2);
    expect(await st({ op: wire.OP_DEVCALL, handle: 0, func: 1 })).toBe(-2);
    expect(await st({ op: 0 })).toBe(-22);
    expect(await st({ op: 77 })).toBe(-22);
    expect(await st({ op: wire.OP_DEVCALL, handle: ha, func: 1, len: 1 << 20 })).toBe(-22); // LEN beyond the slot
    expect(await st({ op: wire.OP_DEVCALL, handle: ha, func: 1, len: 0xffffffff })).toBe(-22);
    expect(await st({ op: wire.OP_DEVSHM, handle: ha, args: [0, 100, 1] })).toBe(-22);
    expect(await st({ op: wire.OP_DEVSHM, handle: ha, args: [0, 4096, 9] })).toBe(-22);
    expect(await st({ op: wire.OP_SHMSIGNAL, handle: ha, args: [3] })).toBe(-22); // no such region
    expect(await st({ op: wire.OP_DEVCLOSE, handle: 40 })).toBe(-2);
    // Bus B saw nothing, and still works.
    expect(modelB.log.length).toBe(openBefore);
    const r = await b.cmd('call', { handle: hb, func: 1, len: 64, seed: 3 });
    expect(r).toMatchObject({ ok: true, len: 64 });
    // A guest only ever holds its own bus memory.
    const ma = await a.cmd('memories');
    expect(ma).toMatchObject({ isShared: transport === 'shared', busName: 'bus-a', bytes: A.mem.byteLength });
    expect(A.mem.memory).not.toBe(B.mem.memory);
  });

  it('two guests on one bus and guests on different buses run at the same time', async () => {
    const A = makeBus('multi-a');
    const B = makeBus('multi-b');
    A.ep.addDevice(0, 'test-echo', echoModel());
    B.ep.addDevice(0, 'test-echo', echoModel());
    const gs = [A.spawn(1), A.spawn(2), B.spawn(3), B.spawn(4)];
    await Promise.all(gs.map(ready));
    const hs = await Promise.all(gs.map((g) => g.cmd('open', { dev: 0 })));
    const rs = await Promise.all(gs.map((g, i) => g.cmd('calls', { handle: hs[i]!.handle, func: 1, n: 3000, len: 8 + i })));
    expect(rs.map((r) => r.ok)).toEqual([3000, 3000, 3000, 3000]);
  });
});

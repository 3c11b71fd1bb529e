import { afterEach, describe, expect, it } from 'vitest';
import { VbusHost } from '../dist/src/index.js';
import { drive, SCRIPTED_URL } from './helpers/scripted.js';
import { PLACED_TRANSPORTS, TRANSPORTS, type Transport } from './helpers/transports.js';
// @ts-expect-error plain ESM fixture
import { echoClass } from './fixtures/echo-backend-model.mjs';
import { adminView } from '../dist/src/index.js';

let host: VbusHost | undefined;
afterEach(async () => {
  if (host) { await host.connector.release(); host.release(); host = undefined; }
});

function setup(placement: 'host' | 'backend', transport: Transport) {
  host = new VbusHost({ transport });
  host.registerClass(echoClass);
  const bus = host.createBus('b0', { memoryBytes: 1 << 20 });
  const dev = host.createDevice('echo0');
  host.setType(dev, 'test-echo-dev');
  host.setPlacement(dev, placement);
  host.link(bus, dev);
  return { host, bus, dev };
}

describe.each(PLACED_TRANSPORTS)('guests on a VbusHost, device placed in the $placement thread, $transport transport', ({ placement, transport }) => {
  it('probes, calls and moves ring records through the same model code', async () => {
    const { host, bus } = setup(placement, transport);
    const g = drive(host.spawnGuest(bus, SCRIPTED_URL, { data: { type: 'test-echo' } }));
    const ready = await g.waitEvent((e) => e.event === 'ready');
    expect(ready.devices).toEqual([{ id: 0, type: 'test-echo' }]);
    await g.waitEvent((e) => e.event === 'probe');
    // the guest is a member of the bus, visible in the admin view
    expect(adminView(host).readdir(`/sys/vbus/instances/b0/members`)).toEqual([String(ready.memberId)]);
    const { handle } = await g.cmd('open', { dev: 0 });
    const where = await g.cmd('whereami', { handle });
    expect(where.where).toBe(placement);
    expect(where.direct).toBe(placement === 'backend');
    const r = await g.cmd('call', { handle, func: 1, len: 512, seed: 7 });
    expect(r).toMatchObject({ ok: true, len: 512 });
    expect(r.sum).toBe(r.expect);
    const loop = await g.cmd('loop', { handle, n: 20000, len: 100 });
    expect(loop).toMatchObject({ ok: true, got: 20000, bad: 0 });
    expect((await g.cmd('calls', { handle, func: 1, n: 5000 })).ok).toBe(5000);
  });

  it('ping-pong over the rings never misses a wake-up', async () => {
    const { host, bus } = setup(placement, transport);
    const g = drive(host.spawnGuest(bus, SCRIPTED_URL, { data: { type: 'test-echo' } }));
    await g.waitEvent((e) => e.event === 'probe');
    const { handle } = await g.cmd('open', { dev: 0 });
    expect(await g.cmd('pingpong', { handle, n: 20000 })).toMatchObject({ ok: true, stalls: 0, bad: 0, done: 20000 });
  });

  it('unlinking the device answers calls with ENODEV and calls remove() in the guest', async () => {
    const { host, bus, dev } = setup(placement, transport);
    const g = drive(host.spawnGuest(bus, SCRIPTED_URL, { data: { type: 'test-echo' } }));
    await g.waitEvent((e) => e.event === 'probe');
    const { handle } = await g.cmd('open', { dev: 0 });
    expect(await g.cmd('call', { handle, func: 1, len: 8 })).toMatchObject({ ok: true });
    host.unlink(bus, dev);
    await g.waitEvent((e) => e.event === 'remove' && e.id === 0);
    expect(await g.cmd('call', { handle, func: 1, len: 8, timeoutMs: 5000 })).toMatchObject({ ok: false, error: 'ENODEV' });
    // relink: a new id, a new probe, and calls work again
    host.link(bus, dev);
    await g.waitEvent((e) => e.event === 'probe' && e.id === 1);
    const h2 = (await g.cmd('open', { dev: 1 })).handle;
    expect(await g.cmd('call', { handle: h2, func: 1, len: 8 })).toMatchObject({ ok: true, len: 8 });
  });

  it('a guest that crashes with rings set up leaves the device usable by a new guest', async () => {
    const { host, bus } = setup(placement, transport);
    host.connector.endpoint(bus); // the bus's own connector regions (and a backend's doorbell) exist from here on
    const free0 = bus.memory.allocator!.freeBytes();
    const first = host.spawnGuest(bus, SCRIPTED_URL, { data: { type: 'test-echo' } });
    const g = drive(first);
    await g.waitEvent((e) => e.event === 'probe');
    const { handle } = await g.cmd('open', { dev: 0 });
    expect((await g.cmd('loop', { handle, n: 500, len: 64 })).got).toBe(500);
    await g.cmd('crash');
    expect((await first.exited).code).not.toBe(0);
    await new Promise((r) => setTimeout(r, 50));
    expect(bus.memberCount).toBe(0);
    const g2 = drive(host.spawnGuest(bus, SCRIPTED_URL, { data: { type: 'test-echo' } }));
    await g2.waitEvent((e) => e.event === 'probe');
    const h2 = (await g2.cmd('open', { dev: 0 })).handle;
    expect(await g2.cmd('loop', { handle: h2, n: 3000, len: 200 })).toMatchObject({ ok: true, got: 3000, bad: 0 });
    const r = await g2.cmd('call', { handle: h2, func: 1, len: 77, seed: 2 });
    expect(r.sum).toBe(r.expect);
    await g2.guest.terminate();
    // Every region both guests had (call slot, event ring, rings, a backend's direct
    // slot once the backend let go of it) is back in the allocator.
    for (let i = 0; i < 100 && bus.memory.allocator!.freeBytes() !== free0; i++) await new Promise((res) => setTimeout(res, 20));
    expect(bus.memory.allocator!.freeBytes()).toBe(free0);
  });

  it('a guest exit removes its member; the bus can then be torn down', async () => {
    const { host, bus } = setup(placement, transport);
    const sg = host.spawnGuest(bus, SCRIPTED_URL, { data: { type: 'test-echo' } });
    const g = drive(sg);
    await g.waitEvent((e) => e.event === 'probe');
    const { handle } = await g.cmd('open', { dev: 0 });
    await g.cmd('call', { handle, func: 1, len: 8 });
    await g.cmd('exit');
    expect((await sg.exited).code).toBe(0);
    await new Promise((r) => setTimeout(r, 20));
    expect(bus.memberCount).toBe(0);
    expect(adminView(host).readdir('/sys/vbus/instances/b0/members')).toEqual([]);
    await host.connector.release();
    host.teardown();
    expect(host.stats()).toMatchObject({ buses: 0, devices: 0, members: 0 });
  });
});

describe.each(TRANSPORTS)('guest membership on a VbusHost (%s transport)', (transport) => {
  it('a child spawned by a guest is a member of the same bus with the guest as parent', async () => {
    const { host, bus } = setup('host', transport);
    const g = drive(host.spawnGuest(bus, SCRIPTED_URL, { data: { type: 'test-echo' } }));
    const ready = await g.waitEvent((e) => e.event === 'ready');
    const { memberId } = await g.cmd('spawnChild', { url: SCRIPTED_URL.href, data: { type: 'test-echo' } });
    const child = host.member(memberId)!;
    expect(child.bus).toBe(bus);
    expect(child.parent?.id).toBe(ready.memberId);
    expect(adminView(host).readdir('/sys/vbus/instances/b0/members').sort()).toEqual([String(ready.memberId), String(memberId)].sort());
    // the admin removing the parent takes the child with it and ends both workers
    host.leave(ready.memberId as number);
    await g.guest.exited;
    await host.connector.guest(memberId)?.exited;
    expect(bus.memberCount).toBe(0);
  });

  it('refuses backend placement for a class without a backend factory', () => {
    host = new VbusHost();
    host.registerClass({ name: 'plain', interfaces: ['x'], create: () => ({}) });
    const d = host.createDevice('p');
    host.setType(d, 'plain');
    expect(() => host!.setPlacement(d, 'backend')).toThrow(expect.objectContaining({ code: 'ENOTSUP' }));
    expect(d.placement).toBe('host');
  });
});

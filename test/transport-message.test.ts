// What is particular to the message transport (the device suites run on both transports;
// see test/helpers/transports.ts): a thread that cannot block, a hostile port, the
// refusals, and how a bus reports its transport.
import { afterEach, describe, expect, it } from 'vitest';
import { VbusHost, messageStats, registerVenetClasses, type Bus } from '../dist/src/index.js';
import { drive } from './helpers/scripted.js';
import { counter, eventually, venetHost } from './helpers/venet.js';
import { adminView } from '../dist/src/index.js';

const NONBLOCKING_URL = new URL('./fixtures/guest-nonblocking.mjs', import.meta.url);

let host: VbusHost | undefined;
afterEach(async () => {
  if (host) { await host.connector.release(); host.release(); host = undefined; }
});

function loopbackOn(transport: 'shared' | 'message'): { host: VbusHost; bus: Bus } {
  host = venetHost(transport);
  const bus = host.createBus('m0', { memoryBytes: 2 << 20 });
  host.createDevice('lo0');
  host.setType('lo0', 'venet-loopback');
  host.link(bus, 'lo0');
  return { host, bus };
}

describe('message transport', () => {
  it('in a thread that cannot block: sync calls fail with EAGAIN; syncSetup opens a real driver; async calls and rings work', async () => {
    const { host, bus } = loopbackOn('message');
    const g = drive(host.spawnGuest(bus, NONBLOCKING_URL));
    await g.waitEvent((e) => e.event === 'ready');
    expect(await g.cmd('state')).toMatchObject({ canBlock: false, transport: 'message' });
    const refused = await g.cmd('openSync');
    expect(refused).toMatchObject({ ok: false, error: 'EAGAIN' });
    expect(refused.message).toMatch(/would block.*message transport/);
    const opened = await g.cmd('setup');
    expect(opened).toMatchObject({ ok: true, mac: '02:00:00:00:00:01', mtu: 1500, link: true });
    expect(await g.cmd('querySync')).toMatchObject({ ok: false, error: 'EAGAIN' });
    expect((await g.cmd('queryAsync')).len).toBeGreaterThan(0);
    const sizes = Array.from({ length: 500 }, (_, i) => 14 + ((i * 97) % 1501));
    expect(await g.cmd('echo', { sizes })).toMatchObject({ ok: true, got: 500, same: true });
    await eventually(() => counter(host, 'lo0', 'rx_frames') === 500);
    // DEVCLOSE goes out without waiting; the device sees the connection closed.
    expect(adminView(host).read('/sys/vbus/instances/m0/devices/0/type')).toContain('virtual-ethernet');
    await g.cmd('close');
    await eventually(() => host.connector.endpoint(bus).connectionCount() === 0);
  });

  it('drops malformed batches from a guest, counts them, and keeps serving it', async () => {
    const { host, bus } = loopbackOn('message');
    const g = drive(host.spawnGuest(bus, NONBLOCKING_URL));
    await g.waitEvent((e) => e.event === 'ready');
    await g.cmd('setup');
    const before = messageStats(bus.memory)!;
    expect(before.rejected).toBe(0);
    expect((await g.cmd('garbage')).sent).toBe(6);
    await eventually(() => messageStats(bus.memory)!.rejected === 6);
    expect(messageStats(bus.memory)!.lastRejection).toMatch(/outside the memory|not a whole batch|magic|data words|not an ArrayBuffer/);
    expect(await g.cmd('echo', { sizes: [60, 1514, 14] })).toMatchObject({ ok: true, got: 3, same: true });
  });

  it('refuses a backend-placed device on a message bus, and reports each bus\'s transport', () => {
    host = new VbusHost();
    registerVenetClasses(host);
    const shared = host.createBus('s0', { transport: 'shared' });
    const msg = host.createBus('m0', { transport: 'message' });
    expect([shared.transport, msg.transport]).toEqual(['shared', 'message']);
    expect(host.stats().transports).toEqual({ shared: 1, message: 1 });
    expect(adminView(host).read('/sys/vbus/instances/m0/transport')).toBe('message\n');
    expect(adminView(host).exists('/sys/vbus/instances/s0/transport')).toBe(false); // a shared bus keeps the original layout
    host.createDevice('lo0');
    host.setType('lo0', 'venet-loopback');
    host.setPlacement('lo0', 'backend');
    expect(() => host!.link(msg, 'lo0')).toThrow(expect.objectContaining({ code: 'ENOTSUP' }));
    expect(host.device('lo0')!.links()).toEqual([]);
    expect(() => host!.createBus('x0', { transport: 'carrier-pigeon' as never })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(host.bus('x0')).toBeUndefined();
  });
});

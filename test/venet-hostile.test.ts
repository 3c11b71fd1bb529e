// Hostile guests against venet devices: runt and oversized frames, tags with flags that
// were not negotiated, and garbage written over the TX ring's header. Each is counted
// (drops / faults), nothing throws in the host, and other guests and buses keep working.
import { afterEach, describe, expect, it } from 'vitest';
import type { VbusHost } from '../dist/src/index.js';
import { counter, eventually, venetGuest, venetHost } from './helpers/venet.js';
import { adminView } from '../dist/src/index.js';
import { PLACED_TRANSPORTS, TRANSPORTS } from './helpers/transports.js';

let host: VbusHost | undefined;
afterEach(async () => {
  if (host) { await host.connector.release(); host.release(); host = undefined; }
});

const uncaught: unknown[] = [];
process.on('uncaughtException', (e) => uncaught.push(e));
process.on('unhandledRejection', (e) => uncaught.push(e));

describe.each(PLACED_TRANSPORTS)('hostile frames on venet-loopback, device in the $placement thread, $transport transport', ({ placement, transport }) => {
  it('counts runts, oversize frames and bad flags as drops and a scribbled TX ring as one fault; a second bus keeps working', async () => {
    host = venetHost(transport);
    const evil = host.createBus('evil', { memoryBytes: 4 << 20 });
    const good = host.createBus('good', { memoryBytes: 4 << 20 });
    const d1 = host.createDevice('lo-evil');
    host.setType(d1, 'venet-loopback');
    host.setPlacement(d1, placement);
    host.link(evil, d1);
    const d2 = host.createDevice('lo-good');
    host.setType(d2, 'venet-loopback');
    host.setPlacement(d2, placement);
    host.link(good, d2);
    const bad = await venetGuest(host, evil);
    const ok = await venetGuest(host, good);

    for (const len of [0, 1, 13]) expect((await bad.cmd('raw', { len })).status).toBe(0);
    expect((await bad.cmd('raw', { len: 1515 })).status).toBe(0);
    expect((await bad.cmd('raw', { len: 60, tag: 0x40 })).status).toBe(0); // unknown flag
    await eventually(() => counter(host!, 'lo-evil', 'drops') === 5);
    expect(counter(host, 'lo-evil', 'faults')).toBe(0);
    expect(await bad.cmd('echo', { sizes: [14, 60] })).toMatchObject({ got: 2, bad: 0 }); // still serves good frames

    await bad.cmd('corrupt', { seed: 1234 });
    await bad.cmd('raw', { len: 60 }); // whatever the ring says now, the device faults it
    await eventually(() => counter(host!, 'lo-evil', 'faults') === 1);
    await bad.cmd('raw', { len: 60 });
    await new Promise((r) => setTimeout(r, 100));
    expect(counter(host, 'lo-evil', 'faults')).toBe(1); // counted once: the port stays stopped

    expect(await ok.cmd('echo', { sizes: [14, 100, 1514] })).toMatchObject({ got: 3, bad: 0 });
    expect(counter(host, 'lo-good', 'drops')).toBe(0);
    expect(counter(host, 'lo-good', 'faults')).toBe(0);
    // The host still administers both devices.
    adminView(host).write('/config/vbus/devices/lo-evil/enabled', '0\n');
    expect(adminView(host).read('/config/vbus/devices/lo-evil/enabled').trim()).toBe('0');
    expect(uncaught).toEqual([]);
  });
});

describe.each(TRANSPORTS)('hostile frames on venet-switch (%s transport)', (transport) => {
  it('a scribbling guest on one bus faults only its own port; the others still switch', async () => {
    host = venetHost(transport);
    const sw = host.createDevice('sw0');
    host.setType(sw, 'venet-switch');
    const buses = ['a', 'b', 'c'].map((n) => host!.createBus(n, { memoryBytes: 4 << 20 }));
    for (const b of buses) host.link(b, sw);
    const [x, y, z] = [await venetGuest(host, buses[0]!), await venetGuest(host, buses[1]!), await venetGuest(host, buses[2]!)];
    await x.cmd('raw', { len: 5 });
    await x.cmd('corrupt', { seed: 77 });
    await x.cmd('raw', { len: 60 });
    await eventually(() => counter(host!, 'sw0', 'faults') === 1);
    await y.cmd('send', { frames: [{ dst: z.mac, len: 99 }] });
    expect((await z.cmd('collect', { atLeast: 1 })).frames).toEqual([{ dst: z.mac, src: y.mac, len: 99, flags: 0 }]);
    expect(counter(host, 'sw0', 'drops')).toBeGreaterThanOrEqual(1);
    expect(uncaught).toEqual([]);
  });
});

// venet-switch linked to three buses, one guest per bus (and a second guest on one of
// them): MAC learning, unicast to exactly one port, broadcast to all others, isolation
// of frames meant for another bus, and ageing.
import { afterEach, describe, expect, it } from 'vitest';
import type { VbusHost } from '../dist/src/index.js';
import { counter, eventually, venetGuest, venetHost } from './helpers/venet.js';
import { adminView } from '../dist/src/index.js';
import { TRANSPORTS, type Transport } from './helpers/transports.js';

let host: VbusHost | undefined;
afterEach(async () => {
  if (host) { await host.connector.release(); host.release(); host = undefined; }
});

const BCAST = 'ff:ff:ff:ff:ff:ff';

async function setup(transport: Transport, ageingMs?: number) {
  host = venetHost(transport);
  const sw = host.createDevice('sw0');
  host.setType(sw, 'venet-switch');
  if (ageingMs !== undefined) adminView(host).write('/config/vbus/devices/sw0/ageing_ms', `${ageingMs}\n`);
  const buses = ['red', 'green', 'blue'].map((n) => host!.createBus(n, { memoryBytes: 4 << 20 }));
  for (const b of buses) host.link(b, sw);
  const guests = [];
  for (const b of buses) guests.push(await venetGuest(host, b));
  return { host, buses, guests };
}

describe.each(TRANSPORTS)('venet-switch across three buses (%s transport)', (transport) => {
  it('gives each port its own MAC; broadcast reaches every other guest; unicast only its destination after learning', async () => {
    const { host, guests: [a, b, c] } = await setup(transport);
    expect(new Set([a!.mac, b!.mac, c!.mac]).size).toBe(3);

    // A broadcasts: B and C receive it (and learn nothing yet); A does not get its own frame back.
    expect((await a!.cmd('send', { frames: [{ dst: BCAST, len: 60, seed: 1 }] })).sent).toBe(1);
    const fb = (await b!.cmd('collect', { atLeast: 1 })).frames;
    const fc = (await c!.cmd('collect', { atLeast: 1 })).frames;
    expect(fb).toEqual([{ dst: BCAST, src: a!.mac, len: 60, flags: 0 }]);
    expect(fc).toEqual([{ dst: BCAST, src: a!.mac, len: 60, flags: 0 }]);

    // B and C announce themselves; guests learn each other's MACs from what they receive.
    await b!.cmd('send', { frames: [{ dst: BCAST, len: 64, seed: 2 }] });
    await c!.cmd('send', { frames: [{ dst: BCAST, len: 64, seed: 3 }] });
    const seenByA = (await a!.cmd('collect', { atLeast: 2 })).frames.map((f: { src: string }) => f.src).sort();
    expect(seenByA).toEqual([b!.mac, c!.mac].sort());
    expect((await b!.cmd('collect', { atLeast: 1 })).frames.map((f: { src: string }) => f.src)).toEqual([c!.mac]);
    expect((await c!.cmd('collect', { atLeast: 1 })).frames.map((f: { src: string }) => f.src)).toEqual([b!.mac]);

    // The switch learned all three: A -> C unicast reaches C only.
    const fdb = adminView(host).read('/config/vbus/devices/sw0/fdb');
    for (const g of [a, b, c]) expect(fdb).toContain(g!.mac);
    await a!.cmd('send', { frames: [{ dst: c!.mac, len: 100, seed: 4 }, { dst: c!.mac, len: 1514, seed: 5 }] });
    expect((await c!.cmd('collect', { atLeast: 2 })).frames).toEqual([
      { dst: c!.mac, src: a!.mac, len: 100, flags: 0 },
      { dst: c!.mac, src: a!.mac, len: 1514, flags: 0 },
    ]);
    // A frame from C back to A, as a fence: once it arrived, B would have had A's frames too.
    await c!.cmd('send', { frames: [{ dst: a!.mac, len: 70, seed: 6 }] });
    expect((await a!.cmd('collect', { atLeast: 1 })).frames).toEqual([{ dst: a!.mac, src: c!.mac, len: 70, flags: 0 }]);
    await b!.cmd('send', { frames: [{ dst: b!.mac, len: 60, seed: 7 }] }); // to itself: filtered, counted as a drop
    expect((await b!.cmd('collect', { settleMs: 200 })).frames).toEqual([]);
    expect(counter(host, 'sw0', 'drops')).toBe(1);
  });

  it('floods an unknown unicast destination but never delivers a frame meant for a guest on another bus to a bystander once learned', async () => {
    const { host, buses, guests: [a, b, c] } = await setup(transport);
    // A second guest on the red bus: same bus memory as A, its own port.
    const a2 = await venetGuest(host, buses[0]!);
    const unknown = '02:aa:bb:cc:dd:ee';
    await a!.cmd('send', { frames: [{ dst: unknown, len: 80, seed: 1 }] });
    for (const g of [b, c, a2]) expect((await g!.cmd('collect', { atLeast: 1 })).frames).toEqual([{ dst: unknown, src: a!.mac, len: 80, flags: 0 }]);
    // B announces itself; after that, many A -> B frames reach B only.
    await b!.cmd('send', { frames: [{ dst: a!.mac, len: 60, seed: 2 }] });
    expect((await a!.cmd('collect', { atLeast: 1 })).frames).toHaveLength(1);
    const frames = Array.from({ length: 200 }, (_, i) => ({ dst: b!.mac, len: 14 + ((i * 97) % 1501), seed: i }));
    expect((await a!.cmd('send', { frames })).sent).toBe(200);
    const got = (await b!.cmd('collect', { atLeast: 200 })).frames;
    expect(got).toHaveLength(200);
    expect(got.every((f: { src: string; dst: string }) => f.src === a!.mac && f.dst === b!.mac)).toBe(true);
    expect(got.map((f: { len: number }) => f.len)).toEqual(frames.map((f) => f.len));
    for (const g of [c, a2]) expect((await g!.cmd('collect', { settleMs: 100 })).frames).toEqual([]);
    expect(counter(host, 'sw0', 'tx_frames')).toBe(3 + 1 + 200);
  });

  it('forgets entries after ageing_ms and floods again', async () => {
    // Ageing must outlast a round trip to the guests; those are slower on the message transport.
    const ageingMs = transport === 'message' ? 400 : 50;
    const { host, guests: [a, b, c] } = await setup(transport, ageingMs);
    await b!.cmd('send', { frames: [{ dst: a!.mac, len: 60, seed: 1 }] }); // flood (A unknown), B learned
    await a!.cmd('collect', { atLeast: 1 });
    await c!.cmd('collect', { atLeast: 1 });
    expect(adminView(host).read('/config/vbus/devices/sw0/fdb')).toContain(b!.mac);
    await new Promise((r) => setTimeout(r, 4 * ageingMs)); // longer than ageing_ms: B's entry expires
    await eventually(() => !adminView(host).read('/config/vbus/devices/sw0/fdb').includes(b!.mac), 5000);
    await a!.cmd('send', { frames: [{ dst: b!.mac, len: 61, seed: 2 }] }); // unknown again: flooded to C too
    expect((await c!.cmd('collect', { atLeast: 1 })).frames).toEqual([{ dst: b!.mac, src: a!.mac, len: 61, flags: 0 }]);
    expect((await b!.cmd('collect', { atLeast: 1 })).frames).toEqual([{ dst: b!.mac, src: a!.mac, len: 61, flags: 0 }]);
  });
});

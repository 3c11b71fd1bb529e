// venet-switch in backend placement: one model, in one pool thread, serves the switch's
// ports on every bus it is linked to. Frames cross the switch between guests on two
// buses byte for byte, learning works, and the switch's counters move.
import { afterEach, describe, expect, it } from 'vitest';
import type { VbusHost } from '../dist/src/index.js';
import { counter, eventually, venetGuest, venetHost } from './helpers/venet.js';

let host: VbusHost | undefined;
afterEach(async () => {
  if (host) { await host.connector.release(); host.release(); host = undefined; }
});

const BCAST = 'ff:ff:ff:ff:ff:ff';

describe('venet-switch in backend placement', () => {
  it('switches frames between guests on two buses byte-exact, from one pool thread', async () => {
    host = venetHost('shared');
    const sw = host.createDevice('sw0');
    host.setType(sw, 'venet-switch');
    host.setPlacement(sw, 'backend');
    const buses = ['east', 'west'].map((n) => host!.createBus(n, { memoryBytes: 4 << 20 }));
    for (const b of buses) host.link(b, sw);
    const a = await venetGuest(host, buses[0]!);
    const b = await venetGuest(host, buses[1]!);
    const b2 = await venetGuest(host, buses[1]!); // a bystander on B's bus

    // Both buses' ports are served by one thread (one model spans them).
    const threads = host.backendThreads();
    expect(threads).toHaveLength(1);
    expect(threads[0]!.devices.map((d) => d.bus).sort()).toEqual(['east', 'west']);

    // Broadcast from A reaches both guests on the other bus, byte-exact.
    expect((await a.cmd('send', { frames: [{ dst: BCAST, len: 60, seed: 11 }] })).sent).toBe(1);
    for (const g of [b, b2]) {
      const r = await g.cmd('collectChecked', { atLeast: 1, seeds: [11] });
      expect(r.frames).toEqual([{ dst: BCAST, src: a.mac, len: 60, flags: 0 }]);
      expect(r.exact).toEqual([true]);
    }
    // B and B2 announce themselves; A learns them (and the switch learns them).
    await b.cmd('send', { frames: [{ dst: a.mac, len: 64, seed: 12 }] });
    await b2.cmd('send', { frames: [{ dst: a.mac, len: 64, seed: 13 }] });
    const back = await a.cmd('collectChecked', { atLeast: 2, seeds: [12, 13] });
    expect(back.exact).toEqual([true, true]);
    expect(back.frames.map((f: { src: string }) => f.src).sort()).toEqual([b.mac, b2.mac].sort());

    // Many unicast frames A -> B of every size up to the MTU: B gets all of them in order,
    // byte-exact; the bystander on B's bus gets none.
    const frames = Array.from({ length: 300 }, (_, i) => ({ dst: b.mac, len: 14 + ((i * 97) % 1501), seed: 1000 + i }));
    let sent = 0;
    for (let i = 0; i < frames.length; i += 50) sent += (await a.cmd('send', { frames: frames.slice(i, i + 50) })).sent;
    expect(sent).toBe(300);
    const got = await b.cmd('collectChecked', { atLeast: 300, seeds: frames.map((f) => f.seed) });
    expect(got.frames.map((f: { len: number }) => f.len)).toEqual(frames.map((f) => f.len));
    expect(got.exact.every(Boolean)).toBe(true);
    expect(got.frames.every((f: { src: string; dst: string }) => f.src === a.mac && f.dst === b.mac)).toBe(true);
    // B -> A as a fence: once it arrived, the bystander would have had A's frames too.
    await b.cmd('send', { frames: [{ dst: a.mac, len: 70, seed: 14 }] });
    expect((await a.cmd('collectChecked', { atLeast: 1, seeds: [14] })).exact).toEqual([true]);
    expect((await b2.cmd('collect', { settleMs: 200 })).frames).toEqual([]);

    // The switch's own counters (its shared counter block) saw the frames.
    await eventually(() => counter(host!, 'sw0', 'rx_frames') >= 304);
  });
});

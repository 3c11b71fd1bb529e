// venet-loopback through the real guest driver, with the device model in the host
// thread and in a backend worker: every frame size from the 14-byte header alone up to
// mtu + 14 comes back byte for byte, and the counters agree.
import { describe, expect, it } from 'vitest';
import { counter, eventually, useLoopbackHosts, venetGuest } from './helpers/venet.js';
import { adminView } from '../dist/src/index.js';
import { PLACED_TRANSPORTS } from './helpers/transports.js';

const setup = useLoopbackHosts();

describe.each(PLACED_TRANSPORTS)('venet-loopback, device in the $placement thread, $transport transport', ({ placement, transport }) => {
  it('returns every frame size 14..mtu+14 byte-exact', async () => {
    const { host, bus } = setup(placement, transport);
    expect(bus.transport).toBe(transport);
    expect(host.stats().transports[transport]).toBe(1);
    const g = await venetGuest(host, bus);
    expect(g.mac).toBe('02:00:00:00:00:01');
    expect(g.mtu).toBe(1500);
    expect(g.link).toBe(true);
    const sizes: number[] = [];
    for (let len = 14; len <= 1514; len++) sizes.push(len);
    const r = await g.cmd('echo', { sizes, seed: 3 });
    // spanBad: the same frames as a span listener (listenSpans: no view per frame) saw them.
    expect(r).toMatchObject({ ok: true, sent: sizes.length, got: sizes.length, bad: 0, spanBad: 0 });
    const bytes = sizes.reduce((a, b) => a + b, 0);
    await eventually(() => counter(host, 'lo0', 'rx_frames') === sizes.length);
    expect(counter(host, 'lo0', 'rx_bytes')).toBe(bytes);
    expect(counter(host, 'lo0', 'tx_frames')).toBe(sizes.length);
    expect(counter(host, 'lo0', 'tx_bytes')).toBe(bytes);
    expect(counter(host, 'lo0', 'drops')).toBe(0);
    expect(counter(host, 'lo0', 'faults')).toBe(0);
  });

  it('keeps frames in the TX ring while the RX ring is full (no drops), with a small RX ring', async () => {
    const { host, bus } = setup(placement, transport);
    const g = await venetGuest(host, bus, 0, { rxBytes: 4096, txBytes: 1 << 16 });
    const sizes = Array.from({ length: 3000 }, (_, i) => 14 + ((i * 37) % 1500));
    const r = await g.cmd('echo', { sizes, seed: 11 });
    expect(r).toMatchObject({ ok: true, got: sizes.length, bad: 0 });
    expect(counter(host, 'lo0', 'drops')).toBe(0);
  });

  it('a larger MTU lets jumbo frames through; frames above it are dropped', async () => {
    const { host, bus } = setup(placement, transport);
    adminView(host).write('/config/vbus/devices/lo0/mtu', '9000\n'); // before the guest opens
    const g = await venetGuest(host, bus);
    expect(g.mtu).toBe(9000);
    const r = await g.cmd('echo', { sizes: [9014, 4000, 1515], seed: 5 });
    expect(r).toMatchObject({ ok: true, got: 3, bad: 0 });
    expect((await g.cmd('raw', { len: 9015 })).status).toBe(0); // one byte too long
    await eventually(() => counter(host, 'lo0', 'drops') === 1);
  });
});

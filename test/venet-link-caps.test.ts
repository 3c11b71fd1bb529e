// The venet ABI's control side, through the guest driver: the `enabled` attribute drives
// LINK_DOWN / LINK_UP on the EVENT ring and stops / restarts traffic; the admin's
// `features_cap` caps what a guest negotiates, and `negotiated` shows the result.
import { describe, expect, it } from 'vitest';
import { VENET_F_CSUM, VENET_F_TX_DONE, FRAME_F_CSUM_PARTIAL, FRAME_F_DATA_VALID } from '../dist/src/internal.js';
import { counter, eventually, useLoopbackHosts, venetGuest } from './helpers/venet.js';
import { adminView } from '../dist/src/internal.js';
import { PLACED_TRANSPORTS } from './helpers/transports.js';

const setup = useLoopbackHosts();

describe.each(PLACED_TRANSPORTS)('venet link and features, device in the $placement thread, $transport transport', ({ placement, transport }) => {
  it('enabled=0 posts LINK_DOWN and drops traffic; enabled=1 posts LINK_UP and traffic flows again', async () => {
    const { host, bus } = setup(placement, transport);
    const g = await venetGuest(host, bus);
    expect(g.link).toBe(true);
    expect((await g.cmd('echo', { sizes: [60] })).got).toBe(1);

    adminView(host).write('/config/vbus/devices/lo0/enabled', '0\n');
    expect(await g.cmd('waitLink', { up: false })).toMatchObject({ ok: true, linkUp: false });
    await g.waitEvent((e) => e.event === 'link' && e.up === false);
    const dropsBefore = counter(host, 'lo0', 'drops');
    const sent = await g.cmd('send', { frames: [{ dst: g.mac, len: 60 }, { dst: g.mac, len: 61 }, { dst: g.mac, len: 62 }] });
    expect(sent.sent).toBe(3); // the ring takes them; the device consumes and drops them
    await eventually(() => counter(host, 'lo0', 'drops') === dropsBefore + 3);
    expect((await g.cmd('collect', { settleMs: 100 })).frames).toEqual([]);

    adminView(host).write('/config/vbus/devices/lo0/enabled', '1\n');
    expect(await g.cmd('waitLink', { up: true })).toMatchObject({ ok: true, linkUp: true, events: [true, false, true] });
    expect(await g.cmd('echo', { sizes: [60, 1514] })).toMatchObject({ got: 2, bad: 0 });
  });

  it('caps negotiation at features_cap; negotiated is readable; the features change behaviour', async () => {
    const { host, bus } = setup(placement, transport);
    adminView(host).write('/config/vbus/devices/lo0/features_cap', 'tx_done\n');
    expect(adminView(host).read('/config/vbus/devices/lo0/features_cap').trim()).toBe('tx_done');
    const g = await venetGuest(host, bus);
    expect(adminView(host).read('/config/vbus/devices/lo0/negotiated').trim()).toBe('none');
    const all = VENET_F_CSUM | VENET_F_TX_DONE;
    expect((await g.cmd('negotiate', { features: all | 0x100 })).negotiated).toBe(VENET_F_TX_DONE);
    expect(adminView(host).read('/config/vbus/devices/lo0/negotiated').trim()).toBe('tx_done');
    // tx_done: the device reports consumed frames on the EVENT ring
    expect((await g.cmd('echo', { sizes: [60, 70, 80] })).got).toBe(3);
    await eventually(() => true);
    expect((await g.cmd('stats')).txCompleted).toBeGreaterThanOrEqual(3);
    // csum not negotiated: a frame flagged CSUM_PARTIAL is malformed and dropped
    await g.cmd('send', { frames: [{ dst: g.mac, len: 60, flags: FRAME_F_CSUM_PARTIAL }] });
    await eventually(() => counter(host, 'lo0', 'drops') === 1);

    // the admin lifts the cap; the guest renegotiates and gets both
    adminView(host).write('/config/vbus/devices/lo0/features_cap', 'all\n');
    expect((await g.cmd('negotiate', { features: all })).negotiated).toBe(all);
    expect(adminView(host).read('/config/vbus/devices/lo0/negotiated').trim()).toBe('csum,tx_done');
    await g.cmd('send', { frames: [{ dst: g.mac, len: 60, flags: FRAME_F_CSUM_PARTIAL }] });
    expect((await g.cmd('collect', { atLeast: 1 })).frames).toEqual([{ dst: g.mac, src: g.mac, len: 60, flags: FRAME_F_DATA_VALID }]);
    expect(() => adminView(host).write('/config/vbus/devices/lo0/features_cap', 'jumbo\n')).toThrow(/unknown feature "jumbo"/);
    expect(adminView(host).read('/config/vbus/devices/lo0/features_cap').trim()).toBe('csum,tx_done');
  });
});

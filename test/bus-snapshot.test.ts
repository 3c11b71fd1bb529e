// Saving buses in the middle of traffic and restoring them in a new process: a sender
// guest streams frames across a switch to a receiver on another bus, keeps 32 vdisk
// writes in flight and writes console lines; the buses are saved, the snapshot is
// restored by a child process, the guests continue from their saved state, and the
// sequence numbers show nothing lost, duplicated or reordered beyond the switch's
// counted drops; every acknowledged write is on the disk; features are kept with no
// renegotiation.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { saveBuses, restoreBuses, decodeSnapshot, encodeSnapshot, type ConsoleModel, type VbusHost } from '../dist/src/internal.js';
import { drive } from './helpers/scripted.js';
import { useHosts } from './helpers/state-host.js';

const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'vbus-snap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const makeHost = useHosts();
const TRAFFIC_URL = new URL('./fixtures/guest-traffic.mjs', import.meta.url);

function topology(h: VbusHost) {
  const lan0 = h.createBus('lan0', { memoryBytes: 8 << 20 });
  const lan1 = h.createBus('lan1', { memoryBytes: 8 << 20 });
  const mk = (name: string, type: string) => { const d = h.createDevice(name); h.setType(d, type); return d; };
  const sw = mk('sw', 'venet-switch');
  const disk = mk('disk', 'vdisk');
  disk.setAttr('capacity', String(512 * 256));
  const con = mk('con', 'vconsole');
  const ids = { sw: h.link(lan0, sw), disk: h.link(lan0, disk), con: h.link(lan0, con) };
  h.link(lan1, sw);
  return { lan0, lan1, ids, con: con.model as ConsoleModel };
}

function lines(text: string): number[] {
  return text.split('\n').filter((l) => l !== '').map((l) => Number(/^line (\d+)$/.exec(l)?.[1] ?? NaN));
}

describe('save and restore buses', () => {
  it('saves mid-traffic; a new process restores; guests continue with nothing lost, every acked write present, no renegotiation', async () => {
    const h = makeHost();
    const t = topology(h);
    const output: string[] = [];
    t.con.onOutput((b) => output.push(new TextDecoder().decode(b)));
    const recv = drive(h.spawnGuest(t.lan1, TRAFFIC_URL, { data: { role: 'receiver', sw: 0 } }));
    const send = drive(h.spawnGuest(t.lan0, TRAFFIC_URL, { data: { role: 'sender', sw: t.ids.sw, disk: t.ids.disk, con: t.ids.con } }));
    await Promise.all([recv.waitEvent((e) => e.event === 'ready'), send.waitEvent((e) => e.event === 'ready')]);
    const peer = (await recv.cmd('mac')).mac;
    expect((await send.cmd('go', { peer })).ok).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(output.join('').length).toBeGreaterThan(0); // traffic is flowing when the save starts

    const bytes = await saveBuses(h, ['lan0', 'lan1']);
    const file = join(dir, 'lan.vbsnap');
    writeFileSync(file, bytes);
    const snap = decodeSnapshot(bytes);
    expect(snap.buses.map((b) => b.name)).toEqual(['lan0', 'lan1']);
    const sender0 = snap.members.find((m) => m.bus === 'lan0')!.guest!.state as Record<string, any>;
    const receiver0 = snap.members.find((m) => m.bus === 'lan1')!.guest!.state as Record<string, any>;
    expect(sender0.seq).toBeGreaterThan(0);
    expect(Object.keys(sender0.acked).length).toBeGreaterThan(32);
    expect(sender0.features).toBe(3);
    const beforeText = output.join('');
    expect(lines(beforeText)).toEqual(Array.from({ length: sender0.line }, (_, i) => i)); // every line written so far reached the host
    const swState = snap.devices.find((d) => d.name === 'sw')!.state.data as Record<string, any>;
    expect(receiver0.count + swState.counters.drops).toBe(sender0.seq); // what was sent arrived or was dropped (and counted)

    const { stdout } = await promisify(execFile)(process.execPath, [join(root, 'test/fixtures/restore-runner.mjs'), file, String(send.guest.memberId), String(recv.guest.memberId)], { cwd: root, timeout: 60_000 });
    const r = JSON.parse(stdout.trim().split('\n').pop()!);
    // The sender resumed from its state, kept its features and never negotiated again.
    expect(r.sender).toMatchObject({ resumed: true, negotiations: 0, features: 3 });
    // Both took their connections back: no call to open a device again, the same handles.
    expect(r.sender.openCalls).toBe(0);
    expect(r.receiver.openCalls).toBe(0);
    expect(r.sender.netHandle).toBe(r.sender.state.netHandle);
    expect(r.receiver.netHandle).toBe(r.receiver.state.netHandle);
    expect(r.switch.negotiated).toBe('csum,tx_done');
    expect(r.sender.state.seq).toBeGreaterThan(sender0.seq);
    // Frames: in order, none twice, each either received or dropped by the switch (counted).
    expect(r.receiver.state.dups).toBe(0);
    expect(r.receiver.state.last).toBe(r.sender.state.seq - 1);
    expect(r.receiver.state.count + r.switch.drops).toBe(r.sender.state.seq);
    expect(r.receiver.state.lost).toBe(r.switch.drops);
    // Disk: every acknowledged write, before and after the restore, is there.
    for (const [blk, tag] of Object.entries(r.sender.state.acked as Record<string, number>)) expect(r.diskTags[blk], `block ${blk}`).toBe(tag);
    // Console: the lines go on where they stopped, none lost or repeated.
    expect(lines(beforeText + r.console)).toEqual(Array.from({ length: r.sender.state.line }, (_, i) => i));
  }, 120_000);

  it('refuses what it cannot do and changes nothing: a device linked outside the saved buses, an existing name, a damaged file', async () => {
    const h = makeHost();
    topology(h);
    await expect(saveBuses(h, ['lan0'])).rejects.toThrow(/device sw is also linked to bus lan1, which is not being saved/);
    const bytes = await saveBuses(h, ['lan0', 'lan1']);
    expect(() => restoreBuses(h, bytes)).toThrow(/bus lan0 already exists here/);
    const h2 = makeHost();
    const bad = bytes.slice();
    bad[bad.length - 9] ^= 1;
    expect(() => restoreBuses(h2, bad, 'x.vbsnap')).toThrow(/x\.vbsnap is not a valid vbus bus-snapshot file: checksum mismatch/);
    const snap = decodeSnapshot(bytes);
    const future = encodeSnapshot({ ...snap, devices: snap.devices.map((d) => (d.name === 'con' ? { ...d, state: { ...d.state, version: 5 } } : d)) });
    expect(() => restoreBuses(h2, future)).toThrow(/vconsole state version 5 cannot be loaded into con: this vconsole writes version 2/);
    expect(h2.stats()).toMatchObject({ buses: 0, devices: 0, links: 0, members: 0 }); // the failed restore left nothing behind
    const ok = restoreBuses(h2, bytes);
    expect(ok.buses.map((b) => b.devices().map((d) => `${d.id}:${d.device.name}`))).toEqual([['0:sw', '1:disk', '2:con'], ['0:sw']]);
  });
});

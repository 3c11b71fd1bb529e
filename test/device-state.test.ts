// Device state as a versioned contract: every shipped class saves and loads its state
// (attributes, counters, negotiated features, switch table, disk contents, console
// buffers), the file form round-trips and refuses corruption, and a state of a version
// the class does not load is refused naming both versions, changing nothing.
import { describe, expect, it } from 'vitest';
import {
  saveDeviceState, loadDeviceState, encodeDeviceState, decodeDeviceState, venetTap,
  isVbusError, type ConsoleModel, type DeviceState, type VbusHost, type Device, type DeviceClassSpec,
} from '../dist/src/index.js';
import { ok, stateGuest, useHosts } from './helpers/state-host.js';

const makeHost = useHosts();

/** The topology both sides of a save build: two buses, a switch on both, the rest on lan0. */
function topology(host: VbusHost, states?: Map<string, DeviceState>) {
  const lan0 = host.createBus('lan0', { memoryBytes: 8 << 20 });
  const lan1 = host.createBus('lan1', { memoryBytes: 8 << 20 });
  const mk = (name: string, type: string, attrs: Record<string, string> = {}) => {
    const d = host.createDevice(name);
    host.setType(d, type);
    for (const [k, v] of Object.entries(attrs)) d.setAttr(k, v);
    const s = states?.get(name);
    if (s) loadDeviceState(d, s);
    return d;
  };
  const sw = mk('sw', 'venet-switch');
  const disk = mk('disk', 'vdisk', { capacity: '65536' });
  const con = mk('con', 'vconsole');
  const rng = mk('rng', 'vrng');
  const tap = mk('tap', 'venet-tap');
  const ids = { sw: host.link(lan0, sw), disk: host.link(lan0, disk), con: host.link(lan0, con), rng: host.link(lan0, rng) };
  host.link(lan1, sw);
  return { lan0, lan1, devices: { sw, disk, con, rng, tap }, ids };
}

/** A state with the time-dependent part (switch entry ages) left out, for comparison. */
function comparable(s: DeviceState): unknown {
  const data = s.data as Record<string, unknown>;
  if (!data || !Array.isArray(data['fdb'])) return s;
  return { ...s, data: { ...data, fdb: (data['fdb'] as Array<Record<string, unknown>>).map((e) => ({ ...e, age: 0 })) } };
}

describe('device state', () => {
  it('every shipped class saves its state, and a fresh runtime loads it back: counters, negotiated features, switch table, disk, console, entropy counters', async () => {
    const h1 = makeHost();
    const t1 = topology(h1);
    venetTap(t1.devices.tap).setMtu(9000);
    const a = await stateGuest(h1, t1.lan0);
    const b = await stateGuest(h1, t1.lan1);
    const na = await ok(a, 'openNet', { dev: t1.ids.sw });
    const nb = await ok(b, 'openNet', { dev: 0 });
    expect((await ok(a, 'negotiate', { dev: t1.ids.sw, features: 3 })).features).toBe(3);
    await ok(a, 'sendFrames', { dev: t1.ids.sw, dst: nb.mac, from: 0, count: 3 }); // flooded: b is unknown yet
    expect((await ok(b, 'frames', { dev: 0, atLeast: 3 })).seqs).toEqual([0, 1, 2]);
    await ok(b, 'sendFrames', { dev: 0, dst: na.mac, from: 10, count: 3 }); // unicast: a was learned
    expect((await ok(a, 'frames', { dev: t1.ids.sw, atLeast: 3 })).seqs).toEqual([10, 11, 12]);
    await ok(a, 'openDisk', { dev: t1.ids.disk });
    await ok(a, 'writeBlocks', { dev: t1.ids.disk, len: 512, blocks: [0, 5, 127], tag: 0x1000 });
    await ok(a, 'openCon', { dev: t1.ids.con });
    await ok(a, 'conWrite', { dev: t1.ids.con, text: 'hello from the guest' });
    await ok(a, 'openRng', { dev: t1.ids.rng });
    await ok(a, 'rngRead', { dev: t1.ids.rng, n: 64 });
    const conModel = t1.devices.con.model as ConsoleModel;
    await new Promise((r) => setTimeout(r, 50)); // let the console drain the guest's write
    await ok(a, 'closeCon', { dev: t1.ids.con }); // the console's guest leaves; input typed now waits for the next one
    await conModel.hostWrite('typed while nobody listened');

    const saved = new Map<string, DeviceState>();
    for (const [name, d] of Object.entries(t1.devices)) {
      const bytes = encodeDeviceState(saveDeviceState(d));
      saved.set(name, decodeDeviceState(bytes, name));
    }
    const sw = saved.get('sw')!.data as Record<string, any>;
    expect(sw.counters.rx_frames).toBe(6);
    expect(sw.negotiated).toBe(3);
    expect(sw.ports).toEqual([
      { bus: 'lan0', member: a.guest.memberId, device: t1.ids.sw, index: 0, negotiated: 3 },
      { bus: 'lan1', member: b.guest.memberId, device: 0, index: 1, negotiated: 0 },
    ]);
    expect(sw.fdb.map((e: any) => e.port).sort()).toEqual([0, 1]);
    expect((saved.get('disk')!.data as any).contents.length).toBe(65536);
    expect(new TextDecoder().decode((saved.get('con')!.data as any).output)).toBe('hello from the guest');
    expect((saved.get('rng')!.data as any).totals).toEqual({ bytesServed: 64, requests: 1 });
    expect((saved.get('tap')!.data as any).tap.mtu).toBe(9000);

    const h2 = makeHost();
    const t2 = topology(h2, saved);
    for (const [name, d] of Object.entries(t2.devices)) expect(comparable(saveDeviceState(d))).toEqual(comparable(saved.get(name)!));
    expect(t2.devices.sw.attr('rx_frames')).toBe('6');
    expect(t2.devices.sw.attr('negotiated')).toBe('csum,tx_done');
    expect(t2.devices.rng.attr('bytes_served')).toBe('64');
    expect(venetTap(t2.devices.tap).mtu).toBe(9000);
    expect(new TextDecoder().decode((t2.devices.con.model as ConsoleModel).hostRead())).toBe('hello from the guest');

    // The same guests again (same member ids, same buses): the switch gives them their
    // ports back (same MAC, negotiated features without a NEGOTIATE), the disk its blocks,
    // the console the input typed while nobody listened.
    const a2 = await stateGuest(h2, t2.lan0);
    const b2 = await stateGuest(h2, t2.lan1);
    expect(a2.guest.memberId).toBe(a.guest.memberId);
    const na2 = await ok(a2, 'openNet', { dev: t2.ids.sw });
    expect(na2).toMatchObject({ mac: na.mac, features: 3 });
    const nb2 = await ok(b2, 'openNet', { dev: 0 });
    expect(nb2).toMatchObject({ mac: nb.mac, features: 0 });
    await ok(b2, 'sendFrames', { dev: 0, dst: na.mac, from: 20, count: 2 }); // still learned: straight to a2
    expect((await ok(a2, 'frames', { dev: t2.ids.sw, atLeast: 2 })).seqs).toEqual([20, 21]);
    await ok(a2, 'openDisk', { dev: t2.ids.disk });
    expect((await ok(a2, 'readTags', { dev: t2.ids.disk, len: 512, blocks: [0, 5, 127, 6] })).tags).toEqual([0x1000, 0x1005, 0x107f, 0]);
    await ok(a2, 'openCon', { dev: t2.ids.con });
    expect((await ok(a2, 'conRead', { dev: t2.ids.con, atLeast: 27 })).text).toBe('typed while nobody listened');
  });
});

/** For each class: a device with some state, and a differently configured target. */
const CASES: Array<[string, (h: VbusHost, name: string, variant: number) => Device]> = [
  ['venet-loopback', (h, n, v) => { const d = h.createDevice(n); h.setType(d, 'venet-loopback'); d.setAttr('mtu', String(1500 + v)); return d; }],
  ['venet-switch', (h, n, v) => { const d = h.createDevice(n); h.setType(d, 'venet-switch'); d.setAttr('ageing_ms', String(1000 + v)); return d; }],
  ['venet-tap', (h, n, v) => { const d = h.createDevice(n); h.setType(d, 'venet-tap'); venetTap(d).setMtu(2000 + v); return d; }],
  ['vdisk', (h, n, v) => { const d = h.createDevice(n); h.setType(d, 'vdisk'); d.setAttr('capacity', String(4096 * (v + 1))); return d; }],
  ['vconsole', (h, n, v) => { const d = h.createDevice(n); h.setType(d, 'vconsole'); void (d.model as ConsoleModel).hostWrite(`input ${v}`); return d; }],
  ['vrng', (h, n, v) => { const d = h.createDevice(n); h.setType(d, 'vrng'); d.setAttr('quota_bytes_per_s', String(100 + v)); return d; }],
];

describe('device state versions', () => {
  it.each(CASES)('%s: a state of a newer or unknown version is refused naming both versions, and the device is unchanged', (cls, make) => {
    const h = makeHost();
    const src = make(h, 'src', 1);
    const state = saveDeviceState(src);
    const current = h.deviceClass(cls)!.state!.version;
    expect(state).toMatchObject({ cls, version: current });
    const target = make(h, 'target', 2);
    const before = saveDeviceState(target);
    for (const version of [99, current + 1, 7]) {
      let err: unknown;
      try { loadDeviceState(target, { ...state, version }); } catch (e) { err = e; }
      expect(isVbusError(err, 'ENOTSUP')).toBe(true);
      expect((err as Error).message).toContain(`${cls} state version ${version}`);
      expect((err as Error).message).toContain(`writes version ${current}`);
      expect(saveDeviceState(target)).toEqual(before);
    }
    // The same state at its own version loads, and makes the target equal to the source.
    loadDeviceState(target, state);
    expect(saveDeviceState(target)).toEqual(state);
  });

  it('a class loads the older versions it lists, and refuses the others', () => {
    const h = makeHost();
    const seen: number[] = [];
    const spec: DeviceClassSpec = {
      name: 'counter-v3', interfaces: ['test'],
      attributes: [{ name: 'label', mode: 'rw', initial: '' }],
      create: () => ({}),
      state: { version: 3, loads: [1, 2], save: () => ({ n: 3 }), prepare: (_d, data, version) => () => { seen.push(version, (data as any).n); } },
    };
    h.registerClass(spec);
    const d = h.createDevice('c');
    h.setType(d, 'counter-v3');
    loadDeviceState(d, { cls: 'counter-v3', version: 1, attrs: { label: 'old' }, data: { n: 1 } });
    expect(seen).toEqual([1, 1]);
    expect(d.attr('label')).toBe('old');
    expect(() => loadDeviceState(d, { cls: 'counter-v3', version: 4, attrs: { label: 'new' }, data: { n: 4 } })).toThrow(/version 4 .*writes version 3 and loads 3, 1, 2 \(the state is from a newer runtime\)/);
    expect(d.attr('label')).toBe('old');
  });
});

describe('device state refusals', () => {
  it('refuses another class, a linked device, a malformed field and a bad attribute, changing nothing', () => {
    const h = makeHost();
    const lo = h.createDevice('lo');
    h.setType(lo, 'venet-loopback');
    const rng = h.createDevice('rng');
    h.setType(rng, 'vrng');
    const s = saveDeviceState(lo);
    expect(() => loadDeviceState(rng, s)).toThrow(/rng is a vrng; the state was saved from a venet-loopback/);
    const before = saveDeviceState(lo);
    const bad = { ...s, attrs: { ...s.attrs, mtu: '9000' }, data: { ...(s.data as object), counters: { rx_frames: -1 } } } as DeviceState;
    expect(() => loadDeviceState(lo, bad)).toThrow(/state field venet-loopback state.counters.rx_frames: expected an integer/);
    expect(() => loadDeviceState(lo, { ...s, attrs: { mtu: '12' } })).toThrow(/mtu/);
    expect(() => loadDeviceState(lo, { ...s, attrs: { negotiated: 'csum' } })).toThrow(/read-only attribute negotiated/);
    expect(saveDeviceState(lo)).toEqual(before);
    h.link(h.createBus('b0', { memoryBytes: 1 << 20 }), lo);
    expect(() => loadDeviceState(lo, s)).toThrow(/linked to b0: load its state before linking it/);
  });

  it('the file form refuses corruption, truncation and another kind of file', () => {
    const h = makeHost();
    const d = h.createDevice('disk');
    h.setType(d, 'vdisk');
    d.setAttr('capacity', '8192');
    h.link(h.createBus('b0', { memoryBytes: 1 << 20 }), d);
    const bytes = encodeDeviceState(saveDeviceState(d));
    expect(decodeDeviceState(bytes)).toEqual(saveDeviceState(d));
    for (const at of [0, 9, bytes.length >> 1, bytes.length - 1]) {
      const c = bytes.slice();
      c[at] ^= 0x40;
      expect(() => decodeDeviceState(c, 'disk.state')).toThrow(/disk\.state/);
    }
    expect(() => decodeDeviceState(bytes.subarray(0, bytes.length - 100), 'cut')).toThrow(/checksum mismatch|runs past the end/);
    const c = bytes.slice();
    c[4] = 9; // container version
    expect(() => decodeDeviceState(c, 'future')).toThrow(/container version 9 is not supported \(this runtime reads version 1\)/);
  });
});

/**
 * Property test: random sequences of admin operations, valid and invalid, through the
 * path view and the typed API. After every step: a refused operation changed nothing
 * (full dump identical), and the invariants hold (ids unique per bus, every link
 * visible from both sides and in /sys and /config, no member on two buses, class
 * reference counts right, bus memory regions accounted for). After a full teardown
 * nothing is left and every bus memory is released. Seeded, so runs are repeatable.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Bus, VbusError, VbusHost } from '../dist/src/index.js';
import { venetLoopbackFixture, venetTapFixture } from './fixtures/venet-tap-fixture.js';
import { adminView } from '../dist/src/index.js';

const BUSES = ['A', 'B'];
const DEVICES = ['d0', 'd1', 'd2'];
const CLASSES = ['venet-tap', 'venet-tap', 'venet-loopback', 'nope'];
const IDS = [1, 2, 3, 4];
const VALUES = ['0', '1', '2', '02:00:00:00:00:01', 'junk'];
const ATTR_NAMES = ['enabled', 'enabled', 'client_mac', 'ifname', 'mtu'];

type Op =
  | { op: 'mkdirBus' | 'rmdirBus' | 'createBus' | 'destroyBus'; bus: string }
  | { op: 'mkdirDev' | 'rmdirDev' | 'createDevice' | 'destroyDevice'; dev: string }
  | { op: 'type' | 'setType'; dev: string; cls: string }
  | { op: 'symlink' | 'unlinkPath' | 'link' | 'unlink'; bus: string; dev: string }
  | { op: 'procJoin'; id: number; bus: string }
  | { op: 'procLeave' | 'leave'; id: number }
  | { op: 'fork'; parent: number; id: number }
  | { op: 'attr'; dev: string; name: string; value: string; via: 'sys' | 'config' | 'typed' }
  | { op: 'unregister' | 'register'; cls: string };

const bus = fc.constantFrom(...BUSES);
const dev = fc.constantFrom(...DEVICES);
const id = fc.constantFrom(...IDS);
// Weighted so that sequences build enough state for the later operations to succeed
// (class (un)registration is rare and mostly of the exclusive class: an early unregister
// of venet-tap would make most typing fail).
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constantFrom('mkdirBus', 'rmdirBus', 'createBus', 'destroyBus' as const), bus }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constantFrom('mkdirDev', 'rmdirDev', 'createDevice', 'destroyDevice' as const), dev }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constantFrom('type', 'setType' as const), dev, cls: fc.constantFrom(...CLASSES) }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constantFrom('symlink', 'unlinkPath', 'link', 'unlink' as const), bus, dev }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('procJoin' as const), id, bus }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('procLeave', 'leave' as const), id }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('fork' as const), parent: id, id }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('attr' as const), dev, name: fc.constantFrom(...ATTR_NAMES), value: fc.constantFrom(...VALUES), via: fc.constantFrom('sys', 'config', 'typed' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('unregister', 'register', 'register' as const), cls: fc.constantFrom('venet-loopback', 'venet-loopback', 'venet-loopback', 'venet-tap') }) },
);

function apply(host: VbusHost, o: Op): void {
  const a = adminView(host);
  switch (o.op) {
    case 'mkdirBus': a.mkdir(`/config/vbus/instances/${o.bus}`); break;
    case 'rmdirBus': a.rmdir(`/config/vbus/instances/${o.bus}`); break;
    case 'createBus': host.createBus(o.bus); break;
    case 'destroyBus': host.destroyBus(o.bus); break;
    case 'mkdirDev': a.mkdir(`/config/vbus/devices/${o.dev}`); break;
    case 'rmdirDev': a.rmdir(`/config/vbus/devices/${o.dev}`); break;
    case 'createDevice': host.createDevice(o.dev); break;
    case 'destroyDevice': host.destroyDevice(o.dev); break;
    case 'type': a.write(`/config/vbus/devices/${o.dev}/type`, `${o.cls}\n`); break;
    case 'setType': host.setType(o.dev, o.cls); break;
    case 'symlink': a.symlink(`/config/vbus/devices/${o.dev}/`, `/config/vbus/instances/${o.bus}/`); break;
    case 'unlinkPath': a.unlink(`/config/vbus/instances/${o.bus}/${o.dev}`); break;
    case 'link': host.link(o.bus, o.dev); break;
    case 'unlink': host.unlink(o.bus, o.dev); break;
    case 'procJoin': a.write(`/proc/${o.id}/vbus`, `${o.bus}\n`); break;
    case 'procLeave': a.write(`/proc/${o.id}/vbus`, '0\n'); break;
    case 'leave': host.leave(o.id); break;
    case 'fork': {
      const p = host.member(o.parent);
      if (!p) throw new VbusError('ENOENT', `no member ${o.parent}`);
      host.fork(p, { id: o.id });
      break;
    }
    case 'attr':
      if (o.via === 'typed') {
        const d = host.device(o.dev);
        if (!d) throw new VbusError('ENOENT', `no device ${o.dev}`);
        d.setAttr(o.name, o.value);
      } else {
        a.write(`/${o.via}/vbus/devices/${o.dev}/${o.name}`, o.value);
      }
      break;
    case 'unregister': host.unregisterClass(o.cls); break;
    case 'register': host.registerClass(o.cls === 'venet-tap' ? venetTapFixture() : venetLoopbackFixture()); break;
  }
}

function sorted(xs: string[]): string[] { return [...xs].sort(); }

function checkInvariants(host: VbusHost): void {
  const a = adminView(host);
  let memberTotal = 0;
  expect(sorted(a.readdir('/sys/vbus/instances'))).toEqual(sorted(host.buses().map((b) => b.name)));
  expect(sorted(a.readdir('/config/vbus/instances'))).toEqual(sorted(host.buses().map((b) => b.name)));
  expect(sorted(a.readdir('/sys/vbus/devices'))).toEqual(sorted(host.devices().map((d) => d.name)));
  for (const b of host.buses()) {
    expect(b.isAlive).toBe(true);
    const entries = b.devices();
    const ids = entries.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length); // ids unique per bus
    let regionBytes = 0;
    for (const { id, device } of entries) {
      expect(device.isAlive).toBe(true);
      expect(host.device(device.name)).toBe(device);
      const l = device.linkTo(b)!;
      expect(l.id).toBe(id); // bus side -> device side
      regionBytes += l.region?.bytes ?? 0;
      expect(a.readlink(`/sys/vbus/instances/${b.name}/devices/${id}/device`)).toBe(`../../../../devices/${device.name}`);
      expect(a.read(`/sys/vbus/instances/${b.name}/devices/${id}/type`)).toBe(`${device.interfaceType}\n`);
    }
    expect(b.memory.allocator!.usedBytes()).toBe(regionBytes);
    expect(a.readdir(`/sys/vbus/instances/${b.name}/devices`)).toEqual(ids.map(String));
    expect(sorted(a.readdir(`/config/vbus/instances/${b.name}`))).toEqual(sorted(entries.map((e) => e.device.name)));
    for (const m of b.members()) {
      expect(m.bus).toBe(b);
      expect(host.member(m.id)).toBe(m);
      if (m.parent) expect(m.parent.bus).toBe(b); // children inherit
    }
    expect(sorted(a.readdir(`/sys/vbus/instances/${b.name}/members`))).toEqual(sorted(b.members().map((m) => String(m.id))));
    memberTotal += b.memberCount;
  }
  // no member on two buses: each host member is counted by exactly one bus
  expect(memberTotal).toBe(host.members().length);
  for (const m of host.members()) {
    expect(host.buses().filter((b) => b.members().includes(m))).toHaveLength(1);
    expect(a.read(`/proc/${m.id}/vbus`)).toBe(`${m.bus!.name}\n`);
  }
  for (const d of host.devices()) {
    const links = d.links();
    const indexes = links.map((l) => l.index);
    expect(new Set(indexes).size).toBe(indexes.length);
    if (d.deviceClass?.exclusive) expect(links.length).toBeLessThanOrEqual(1);
    if (!d.deviceClass) expect(links).toEqual([]);
    for (const l of links) {
      expect(host.bus(l.bus.name)).toBe(l.bus);
      expect(l.bus.deviceById(l.id)).toBe(d); // device side -> bus side
      expect(a.readlink(`/sys/vbus/devices/${d.name}/interfaces/${l.index}`)).toBe(`../../../instances/${l.bus.name}/devices/${l.id}`);
    }
    expect(a.readdir(`/sys/vbus/devices/${d.name}/interfaces`)).toEqual(indexes.map(String).sort((x, y) => Number(x) - Number(y)));
  }
  for (const c of host.classes()) {
    expect(c.deviceCount).toBe(host.devices().filter((d) => d.deviceClass === c).length);
  }
}

const successes = new Map<string, number>();
const refusals = new Map<string, number>();

describe('host properties', () => {
  it('random admin sequences keep the invariants, refusals change nothing, teardown leaves nothing', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 10, maxLength: 80, size: 'max' }), (ops) => {
        const host = new VbusHost();
        host.registerClass(venetTapFixture());
        host.registerClass(venetLoopbackFixture());
        const everBuses = new Set<Bus>();
        host.events.on('bus-create', (b) => everBuses.add(b));
        for (const o of ops) {
          const before = adminView(host).dump('/');
          try {
            apply(host, o);
            successes.set(o.op, (successes.get(o.op) ?? 0) + 1);
          } catch (err) {
            if (!(err instanceof VbusError)) throw err;
            refusals.set(o.op, (refusals.get(o.op) ?? 0) + 1);
            expect(adminView(host).dump('/'), `${JSON.stringify(o)} failed with ${err.code} but changed the state`).toBe(before);
          }
          checkInvariants(host);
        }
        const classes = host.classes();
        host.teardown();
        expect(host.stats()).toMatchObject({ devices: 0, buses: 0, members: 0, links: 0, busMemoryBytes: 0 });
        for (const c of classes) expect(c.deviceCount).toBe(0);
        for (const b of everBuses) { expect(b.memory.isReleased).toBe(true); expect(b.isAlive).toBe(false); }
        expect(adminView(host).readdir('/proc')).toEqual([]);
        expect(adminView(host).readdir('/sys/vbus/devices')).toEqual([]);
        expect(adminView(host).readdir('/sys/vbus/instances')).toEqual([]);
        host.release();
        expect(host.stats().classes).toBe(0);
        expect(adminView(host).tree('/sys/vbus')).toBe('/sys/vbus\n|-- deviceclass\n|-- devices\n|-- instances\n`-- version\n');
      }),
      { seed: 0x5eed, numRuns: 200 },
    );
    // The generator must exercise both outcomes of every operation, or the test proves little.
    for (const op of ['mkdirBus', 'rmdirBus', 'mkdirDev', 'rmdirDev', 'type', 'symlink', 'unlinkPath', 'link', 'unlink', 'procJoin', 'procLeave', 'fork', 'attr', 'unregister', 'register']) {
      expect(successes.get(op) ?? 0, `${op} never succeeded`).toBeGreaterThan(0);
      expect(refusals.get(op) ?? 0, `${op} was never refused`).toBeGreaterThan(0);
    }
  });
});

/**
 * Every refusal of the host and its admin view: each asserts the error code, that the
 * message names the offending path or object, and that the whole state (`tree('/')`
 * and the full `dump('/')` with file contents) is the same before and after.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { VbusHost, VbusError, ErrnoCode } from '../dist/src/index.js';
import { RecordingModel, venetLoopbackFixture, venetTapFixture } from './fixtures/venet-tap-fixture.js';
import { adminView } from '../dist/src/index.js';

let host: VbusHost;
let models: RecordingModel[];

/** A small configured host: buses A and B, D1 (venet-tap) and L (exclusive) on A, D2 untyped, member 100 with child 101 on A. */
beforeEach(() => {
  host = new VbusHost();
  models = [];
  host.registerClass(venetTapFixture(models));
  host.registerClass(venetLoopbackFixture());
  const a = adminView(host);
  a.mkdir('/config/vbus/instances/A');
  a.mkdir('/config/vbus/instances/B');
  a.mkdir('/config/vbus/devices/D1');
  a.mkdir('/config/vbus/devices/D2');
  a.mkdir('/config/vbus/devices/L');
  a.write('/config/vbus/devices/D1/type', 'venet-tap\n');
  a.write('/config/vbus/devices/L/type', 'venet-loopback\n');
  a.symlink('/config/vbus/devices/D1', '/config/vbus/instances/A/');
  a.symlink('/config/vbus/devices/L', '/config/vbus/instances/A/L');
  a.write('/proc/100/vbus', 'A\n');
  host.fork(host.member(100)!, { id: 101 });
});

/** Runs `fn`, expects a VbusError with `code` whose message contains `names`, and no change at all. */
function refuse(code: ErrnoCode, fn: () => unknown, names?: string): VbusError {
  const tree = adminView(host).tree('/');
  const dump = adminView(host).dump('/');
  const stats = host.stats();
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  expect(err, `expected ${code}`).toBeInstanceOf(VbusError);
  const ve = err as VbusError;
  expect(ve.code, ve.message).toBe(code);
  if (names) expect(ve.message).toContain(names);
  expect(adminView(host).tree('/')).toBe(tree);
  expect(adminView(host).dump('/')).toBe(dump);
  expect(host.stats()).toEqual(stats);
  return ve;
}

describe('typing a device', () => {
  it('refuses an unknown type with ENOENT "No such file or directory"', () => {
    const e = refuse('ENOENT', () => adminView(host).write('/config/vbus/devices/D2/type', 'foo'), '/config/vbus/devices/D2/type');
    expect(e.message).toContain('No such file or directory');
    refuse('ENOENT', () => host.setType('D2', 'foo'), 'foo');
  });
  it('refuses setting the type twice with EEXIST, even to the same class', () => {
    refuse('EEXIST', () => adminView(host).write('/config/vbus/devices/D1/type', 'venet-loopback'), '/config/vbus/devices/D1/type');
    refuse('EEXIST', () => host.setType('D1', 'venet-tap'), 'D1');
  });
  it('leaves the device untyped when the class factory throws', () => {
    host.registerClass({ name: 'broken', interfaces: ['x'], attributes: [{ name: 'a', mode: 'rw' }], create: () => { throw new Error('no backend'); } });
    const e = refuse('EINVAL', () => adminView(host).write('/config/vbus/devices/D2/type', 'broken'), 'no backend');
    expect(e.message).toContain('/config/vbus/devices/D2/type');
    expect(host.device('D2')!.deviceClass).toBeNull();
    expect(host.deviceClass('broken')!.deviceCount).toBe(0);
  });
  it('refuses typing an unknown device', () => {
    refuse('ENOENT', () => host.setType('nope', 'venet-tap'), 'nope');
  });
});

describe('teardown order', () => {
  it('refuses to destroy a bus with members (EBUSY)', () => {
    refuse('EBUSY', () => adminView(host).rmdir('/config/vbus/instances/A'), '/config/vbus/instances/A');
    refuse('EBUSY', () => host.destroyBus('A'), 'member');
  });
  it('refuses to destroy a bus with devices linked (rmdir of a non-empty instance, EBUSY)', () => {
    host.leave(100);
    refuse('EBUSY', () => adminView(host).rmdir('/config/vbus/instances/A'), 'D1');
    refuse('EBUSY', () => host.destroyBus('A'), 'unlink');
  });
  it('refuses to destroy a device that is still linked (EBUSY)', () => {
    refuse('EBUSY', () => adminView(host).rmdir('/config/vbus/devices/D1'), '/config/vbus/devices/D1');
    refuse('EBUSY', () => host.destroyDevice('D1'), 'bus A');
  });
  it('refuses to unregister a class with devices (EBUSY)', () => {
    refuse('EBUSY', () => host.unregisterClass('venet-tap'), 'D1');
    // still refused once the device is unlinked: the device itself holds the class
    host.leave(100);
    host.unlink('A', 'D1');
    refuse('EBUSY', () => host.unregisterClass('venet-tap'), 'D1');
  });
});

describe('links', () => {
  it('refuses an exclusive device on a second bus (EBUSY)', () => {
    refuse('EBUSY', () => adminView(host).symlink('/config/vbus/devices/L', '/config/vbus/instances/B/'), '/config/vbus/instances/B/');
    refuse('EBUSY', () => host.link('B', 'L'), 'exclusive');
  });
  it('lets a non-exclusive device span buses, with its own id on each', () => {
    adminView(host).symlink('/config/vbus/devices/D1', '/config/vbus/instances/B/');
    expect(host.device('D1')!.links().map((l) => [l.bus.name, l.id, l.index])).toEqual([['A', 0, 0], ['B', 0, 1]]);
  });
  it('refuses linking twice to the same bus (EEXIST)', () => {
    refuse('EEXIST', () => adminView(host).symlink('/config/vbus/devices/D1', '/config/vbus/instances/A/'), '/config/vbus/instances/A/');
    refuse('EEXIST', () => host.link('A', 'D1'), 'D1');
  });
  it('refuses linking an untyped device (EINVAL)', () => {
    refuse('EINVAL', () => adminView(host).symlink('/config/vbus/devices/D2', '/config/vbus/instances/A/'), 'no type');
  });
  it('refuses link targets that are not devices', () => {
    refuse('EINVAL', () => adminView(host).symlink('/sys/vbus/devices/D2', '/config/vbus/instances/B/'), 'not a device');
    refuse('ENOENT', () => adminView(host).symlink('/config/vbus/devices/ghost', '/config/vbus/instances/B/'), 'ghost');
    refuse('EINVAL', () => adminView(host).symlink('/config/vbus/devices/D1', '/config/vbus/instances/B/other'), 'other');
    refuse('EPERM', () => adminView(host).symlink('/config/vbus/devices/D1', '/sys/vbus/instances/B/'), '/sys/vbus/instances/B/');
  });
  it('refuses unlinking what is not linked (ENOENT)', () => {
    refuse('ENOENT', () => adminView(host).unlink('/config/vbus/instances/B/D1'), '/config/vbus/instances/B/D1');
    refuse('ENOENT', () => host.unlink('B', 'D1'), 'not linked');
  });
  it('refuses a device whose bus memory does not fit (ENOSPC), without using up an id', () => {
    const bus = host.bus('B')!;
    // 8 KiB each in a one-page (64 KiB) bus: seven fit after the 64-byte header
    for (let i = 0; i < 8; i++) {
      host.createDevice(`T${i}`);
      host.setType(`T${i}`, 'venet-tap');
    }
    for (let i = 0; i < 7; i++) expect(host.link(bus, `T${i}`)).toBe(i);
    refuse('ENOSPC', () => adminView(host).symlink('/config/vbus/devices/T7', '/config/vbus/instances/B/'), 'T7');
    host.unlink(bus, 'T0');
    expect(host.link(bus, 'T7')).toBe(7); // ids are not reused: 0 stays retired
  });
  it('undoes the link when the model refuses it', () => {
    host.registerClass({ name: 'picky', interfaces: ['virtual-entropy'], create: () => ({ linked: (bus) => { if (bus.name === 'B') throw new VbusError('EACCES', 'not on B'); } }) });
    host.createDevice('P');
    host.setType('P', 'picky');
    const adds: number[] = [];
    host.bus('B')!.events.on('device-add', (id) => adds.push(id));
    refuse('EACCES', () => host.link('B', 'P'), 'not on B');
    expect(adds).toEqual([]);
    expect(host.link('A', 'P')).toBe(2); // after D1 (0) and L (1)
  });
});

describe('names', () => {
  it('refuses duplicate names (EEXIST)', () => {
    refuse('EEXIST', () => adminView(host).mkdir('/config/vbus/instances/A'), '/config/vbus/instances/A');
    refuse('EEXIST', () => adminView(host).mkdir('/config/vbus/devices/D1'), '/config/vbus/devices/D1');
    refuse('EEXIST', () => host.createBus('B'), 'B');
    refuse('EEXIST', () => host.createDevice('D2'), 'D2');
    refuse('EEXIST', () => host.registerClass(venetTapFixture()), 'venet-tap');
  });
  it('refuses names that are not usable path components (EINVAL)', () => {
    refuse('EINVAL', () => adminView(host).mkdir('/config/vbus/devices/ spaced'), 'spaced');
    refuse('EINVAL', () => host.createBus(''), 'bus');
    refuse('EINVAL', () => host.createDevice('a/b'), 'a/b');
    refuse('EINVAL', () => host.createBus('x'.repeat(256)), 'bus');
  });
  it('refuses malformed class specs (EINVAL)', () => {
    refuse('EINVAL', () => host.registerClass({ name: 'c', interfaces: [], create: () => ({}) }), 'interface');
    refuse('EINVAL', () => host.registerClass({ name: 'c', interfaces: ['i'], attributes: [{ name: 'type', mode: 'rw' }], create: () => ({}) }), 'reserved');
    refuse('EINVAL', () => host.registerClass({ name: 'c', interfaces: ['i'], attributes: [{ name: 'a', mode: 'rw' }, { name: 'a', mode: 'ro' }], create: () => ({}) }), 'twice');
    refuse('EINVAL', () => host.registerClass({ name: 'c', interfaces: ['i'], busBytes: -1, create: () => ({}) }), 'busBytes');
  });
  it('refuses a bus memory size out of range (EINVAL)', () => {
    refuse('EINVAL', () => host.createBus('C', { memoryBytes: 0 }), '0');
  });
});

describe('membership', () => {
  it('refuses a member on two buses (EBUSY)', () => {
    refuse('EBUSY', () => adminView(host).write('/proc/100/vbus', 'B\n'), '/proc/100/vbus');
    refuse('EBUSY', () => host.join('B', { id: 101 }), 'one bus');
  });
  it('refuses joining a bus the member is already on (EEXIST), but writing its own bus again is a no-op', () => {
    refuse('EEXIST', () => host.join('A', { id: 100 }), '100');
    const dump = adminView(host).dump('/');
    adminView(host).write('/proc/100/vbus', 'A');
    expect(adminView(host).dump('/')).toBe(dump);
  });
  it('refuses a child on another bus than its parent (EINVAL)', () => {
    refuse('EINVAL', () => host.join('B', host.member(100)!, { id: 200 }), 'inherits');
  });
  it('refuses unknown buses and members (ENOENT) and bad ids (EINVAL)', () => {
    refuse('ENOENT', () => adminView(host).write('/proc/300/vbus', 'nope'), 'nope');
    refuse('ENOENT', () => adminView(host).write('/proc/300/vbus', '0'), '/proc/300/vbus');
    refuse('ENOENT', () => adminView(host).read('/proc/300/vbus'), '/proc/300');
    refuse('ENOENT', () => host.leave(300), '300');
    refuse('EINVAL', () => host.join('A', { id: 0 }), '0');
    refuse('EINVAL', () => host.join('A', { id: 1.5 }), '1.5');
  });
  it('leaving takes the children along', () => {
    const left: number[] = [];
    host.bus('A')!.events.on('member-leave', (m) => left.push(m.id));
    adminView(host).write('/proc/100/vbus', '0');
    expect(left).toEqual([101, 100]);
    expect(host.members()).toEqual([]);
  });
});

describe('attributes', () => {
  it('refuses writing a read-only attribute (EACCES), through either file system and the typed API', () => {
    refuse('EACCES', () => adminView(host).write('/sys/vbus/devices/D1/ifname', 'eth9'), '/sys/vbus/devices/D1/ifname');
    refuse('EACCES', () => adminView(host).write('/config/vbus/devices/D1/ifname', 'eth9'), '/config/vbus/devices/D1/ifname');
    refuse('EACCES', () => host.device('D1')!.setAttr('ifname', 'eth9'), 'read-only');
  });
  it('refuses invalid values (EINVAL) and keeps the old one', () => {
    adminView(host).write('/config/vbus/devices/D1/client_mac', '02:00:00:00:00:AA\n');
    expect(adminView(host).read('/sys/vbus/devices/D1/client_mac')).toBe('02:00:00:00:00:aa\n');
    refuse('EINVAL', () => adminView(host).write('/config/vbus/devices/D1/client_mac', 'not-a-mac'), 'not-a-mac');
    refuse('EINVAL', () => adminView(host).write('/sys/vbus/devices/D1/enabled', '2'), '/sys/vbus/devices/D1/enabled');
    expect(host.device('D1')!.attr('client_mac')).toBe('02:00:00:00:00:aa');
  });
  it('refuses unknown attributes (ENOENT)', () => {
    refuse('ENOENT', () => adminView(host).write('/config/vbus/devices/D1/mtu', '1500'), '/config/vbus/devices/D1/mtu');
    refuse('ENOENT', () => host.device('D2')!.setAttr('enabled', '1'), 'no type');
    refuse('ENOENT', () => host.device('D1')!.attr('mtu'), 'mtu');
  });
  it('reports changes to the model and to listeners, once per change', () => {
    const seen: string[] = [];
    const d = host.device('D1')!;
    d.onAttrChange((n, v) => seen.push(`${n}=${v}`));
    adminView(host).write('/sys/vbus/devices/D1/enabled', '1\n');
    adminView(host).write('/config/vbus/devices/D1/enabled', '1\n'); // same value: no event
    d.setAttr('enabled', '0');
    expect(seen).toEqual(['enabled=1', 'enabled=0']);
    expect(models[0]!.calls.filter((c) => c.hook === 'attrChanged')).toEqual([
      { hook: 'attrChanged', name: 'enabled', value: '1' }, { hook: 'attrChanged', name: 'enabled', value: '0' },
    ]);
  });
  it('refuses writes to other read-only files (EACCES)', () => {
    refuse('EACCES', () => adminView(host).write('/sys/vbus/version', '2'), '/sys/vbus/version');
    refuse('EACCES', () => adminView(host).write('/sys/vbus/instances/A/devices/0/type', 'x'), '/sys/vbus/instances/A/devices/0/type');
    refuse('EACCES', () => adminView(host).write('/sys/vbus/instances/A/members/100', 'x'), 'members/100');
  });
});

describe('paths', () => {
  it('refuses relative and malformed paths (EINVAL)', () => {
    refuse('EINVAL', () => adminView(host).mkdir('config/vbus/devices/X'), 'config/vbus/devices/X');
    refuse('EINVAL', () => adminView(host).read(''), 'must be absolute');
    refuse('EINVAL', () => adminView(host).readlink('/sys/vbus/version'), 'not a symbolic link');
  });
  it('refuses missing entries (ENOENT)', () => {
    refuse('ENOENT', () => adminView(host).read('/sys/vbus/devices/ghost/enabled'), '/sys/vbus/devices/ghost');
    refuse('ENOENT', () => adminView(host).mkdir('/config/vbus/nothing/X'), '/config/vbus/nothing');
    refuse('ENOENT', () => adminView(host).rmdir('/config/vbus/devices/ghost'), 'ghost');
    refuse('ENOENT', () => adminView(host).tree('/sys/vbus/instances/ghost'), 'ghost');
  });
  it('refuses a file used as a directory (ENOTDIR)', () => {
    refuse('ENOTDIR', () => adminView(host).mkdir('/sys/vbus/version/x'), '/sys/vbus/version');
    refuse('ENOTDIR', () => adminView(host).readdir('/config/vbus/devices/D1/type'), 'type');
    refuse('ENOTDIR', () => adminView(host).tree('/sys/vbus/version'), 'version');
    refuse('ENOTDIR', () => adminView(host).rmdir('/config/vbus/devices/D1/type'), 'type');
    refuse('ENOTDIR', () => adminView(host).read('/sys/vbus/version/x'), 'version');
  });
  it('refuses a directory used as a file (EISDIR)', () => {
    refuse('EISDIR', () => adminView(host).write('/config/vbus/devices/D1', 'x'), '/config/vbus/devices/D1');
    refuse('EISDIR', () => adminView(host).read('/sys/vbus/devices'), '/sys/vbus/devices');
    refuse('EISDIR', () => adminView(host).unlink('/config/vbus/instances/A'), '/config/vbus/instances/A');
  });
  it('refuses operations the place does not support (EPERM)', () => {
    refuse('EPERM', () => adminView(host).mkdir('/sys/vbus/devices/X'), '/sys/vbus/devices/X');
    refuse('EPERM', () => adminView(host).mkdir('/config/vbus/devices/D1/sub'), 'sub');
    refuse('EPERM', () => adminView(host).rmdir('/config/vbus/devices'), '/config/vbus/devices');
    refuse('EPERM', () => adminView(host).rmdir('/sys/vbus/devices/D1'), '/sys/vbus/devices/D1');
    refuse('EPERM', () => adminView(host).unlink('/config/vbus/devices/D1/type'), 'type');
    refuse('EPERM', () => adminView(host).unlink('/sys/vbus/devices/D1/class'), 'class');
    refuse('EPERM', () => adminView(host).rmdir('/'), '/');
  });
  it('follows symlinks through the view, as a shell would', () => {
    expect(adminView(host).read('/sys/vbus/instances/A/devices/0/device/client_mac')).toBe('00:00:00:00:00:00\n');
    expect(adminView(host).readdir('/config/vbus/instances/A/D1')).toEqual(['client_mac', 'enabled', 'host_mac', 'ifname', 'type']);
    expect(adminView(host).readdir('/sys/vbus/instances/A/members')).toEqual(['100', '101']);
    expect(adminView(host).read('/sys/vbus/instances/A/members/101')).toBe('100\n');
  });
});

describe('released objects', () => {
  it('refuses to use a destroyed bus or device object (ENOENT)', () => {
    const b = host.createBus('C');
    host.destroyBus(b);
    refuse('ENOENT', () => host.link(b, 'D1'), 'C');
    const d = host.createDevice('E');
    d.release();
    refuse('ENOENT', () => host.setType(d, 'venet-tap'), 'E');
    refuse('ENOENT', () => host.unregisterClass('ghost'), 'ghost');
  });
});

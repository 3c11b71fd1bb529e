/**
 * What the host and its admin view refuse before anything changes: misspelt option
 * keys, non-integer sizes, names a listing would show wrongly (control and bidi
 * characters, over 255 bytes of UTF-8), classes that could be registered but never
 * linked, device MACs that are not unicast, absurd ifnames, membership writes for
 * non-members, links that exist, and every call on a released host. Each asserts the
 * code, the message, and that the state (admin dump, stats) is unchanged.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { VbusHost, VbusError, adminView, registerVenetClasses, type ErrnoCode, type DeviceClassSpec } from '../dist/src/index.js';

let host: VbusHost;
beforeEach(() => {
  host = new VbusHost();
  registerVenetClasses(host);
  host.createBus('vm');
  host.setType(host.createDevice('net0'), 'venet-loopback');
  host.link('vm', 'net0');
});

function refuse(code: ErrnoCode, fn: () => unknown, names: string | RegExp): VbusError {
  const dump = adminView(host).dump('/');
  const stats = host.stats();
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(VbusError);
  const e = err as VbusError;
  expect(e.code).toBe(code);
  if (typeof names === 'string') expect(e.message).toContain(names); else expect(e.message).toMatch(names);
  expect(adminView(host).dump('/')).toBe(dump);
  expect(host.stats()).toEqual(stats);
  return e;
}

const echoClass = (iface: string): DeviceClassSpec => ({ name: 'c', interfaces: [iface], create: () => ({}) });

describe('options', () => {
  it('createBus refuses an unknown key and names it (memorybytes), suggesting memoryBytes', () => {
    refuse('EINVAL', () => host.createBus('b2', { memorybytes: 1 << 20 } as never), "unknown option 'memorybytes' (did you mean 'memoryBytes'?)");
  });
  it('createBus refuses a non-integer size', () => {
    refuse('EINVAL', () => host.createBus('b2', { memoryBytes: 65536.5 }), 'memoryBytes 65536.5 must be an integer');
  });
  it('spawnGuest and join refuse unknown keys before starting anything', () => {
    refuse('EINVAL', () => host.spawnGuest('vm', new URL('./fixtures/guest-fails.mjs', import.meta.url), { date: {} } as never), "unknown option 'date'");
    refuse('EINVAL', () => host.join('vm', { ID: 5 } as never), "unknown option 'ID'");
  });
});

describe('names (issue 13: what the admin accepted)', () => {
  for (const [label, name] of [['newline', 'a\nb'], ['tab', 'a\tb'], ['a C0 control', 'a\u0007b'], ['DEL', 'a\u007fb'], ['a C1 control', 'a\u0085b'], ['bidi override', 'abc\u202Etxt.exe'], ['bidi isolate', 'a\u2066b'], ['lone surrogate', 'a\ud800b']]) {
    it(`a name with ${label} is refused, by the host and by the admin`, () => {
      refuse('EINVAL', () => host.createDevice(name), 'control');
      refuse('EINVAL', () => adminView(host).mkdir(`/config/vbus/instances/${name}`), 'not valid');
    });
  }
  it('the 255 limit counts UTF-8 bytes: 128 × "é" (256 bytes, 128 UTF-16 units) is refused, 127 accepted', () => {
    refuse('EINVAL', () => host.createBus('é'.repeat(128)), '256 bytes of UTF-8');
    host.createBus('é'.repeat(127));
    expect(host.bus('é'.repeat(127))).toBeDefined();
  });
});

describe('registerClass refuses what could never be linked (nothing half-links)', () => {
  it('an interface name over 64 bytes', () => {
    refuse('EINVAL', () => host.registerClass(echoClass('x'.repeat(100))), 'interface name');
    expect(host.deviceClass('c')).toBeUndefined();
  });
  it('an interface of 64 bytes is fine and reaches a guest-facing endpoint when linked', () => {
    host.registerClass(echoClass('y'.repeat(64)));
    host.setType(host.createDevice('d64'), 'c');
    host.connector.endpoint(host.bus('vm')!);
    expect(() => host.link('vm', 'd64')).not.toThrow();
    expect(host.connector.endpoint(host.bus('vm')!).deviceIds()).toContain(1);
  });
  it('busBytes beyond the largest bus memory', () => {
    refuse('EINVAL', () => host.registerClass({ ...echoClass('z'), busBytes: 2 ** 40 }), 'busBytes');
  });
});

describe('venet attributes (issue 13)', () => {
  const attr = (n: string) => `/config/vbus/devices/net0/${n}`;
  it('client_mac / host_mac: broadcast and multicast are refused, unicast accepted', () => {
    refuse('EINVAL', () => adminView(host).write(attr('client_mac'), 'ff:ff:ff:ff:ff:ff\n'), 'broadcast');
    refuse('EINVAL', () => adminView(host).write(attr('host_mac'), '01:00:5e:00:00:01\n'), 'multicast');
    refuse('EINVAL', () => adminView(host).write(attr('client_mac'), '00:00:00:00:00:00\n'), 'not a station address');
  });
  it('ifname with NUL, with a newline, or of 100 KB is refused', () => {
    refuse('EINVAL', () => adminView(host).write(attr('ifname'), 'eth\u00000\n'), 'control character');
    refuse('EINVAL', () => adminView(host).write(attr('ifname'), 'a\nb\n'), 'control character');
    refuse('EINVAL', () => adminView(host).write(attr('ifname'), 'x'.repeat(100_000)), 'at most 255');
  });
  it('a venet-tap ifname with NUL is refused before it is parsed as an endpoint', () => {
    host.setType(host.createDevice('tap0'), 'venet-tap');
    refuse('EINVAL', () => adminView(host).write('/config/vbus/devices/tap0/ifname', 'udp:127.0.0.1:9\u0000\n'), 'control character');
  });
});

describe('membership and links', () => {
  it('leaving through /proc/PID/vbus for a PID that is no member: ENOENT', () => {
    refuse('ENOENT', () => adminView(host).write('/proc/4242/vbus', '0\n'), '4242 is not a member');
  });
  it('linking what is already linked: EEXIST, through the host and the admin', () => {
    refuse('EEXIST', () => host.link('vm', 'net0'), 'already on bus vm');
    refuse('EEXIST', () => adminView(host).symlink('/config/vbus/devices/net0', '/config/vbus/instances/vm/net0'), 'File exists');
  });
});

describe('a released host', () => {
  it('every call says it was released (EBADF)', async () => {
    await host.release();
    const calls: Array<[string, () => unknown]> = [
      ['createBus', () => host.createBus('x')],
      ['destroyBus', () => host.destroyBus('vm')],
      ['createDevice', () => host.createDevice('x')],
      ['setType', () => host.setType('net0', 'venet-loopback')],
      ['setPlacement', () => host.setPlacement('net0', 'host')],
      ['destroyDevice', () => host.destroyDevice('net0')],
      ['registerClass', () => host.registerClass(echoClass('q'))],
      ['unregisterClass', () => host.unregisterClass('venet-loopback')],
      ['link', () => host.link('vm', 'net0')],
      ['unlink', () => host.unlink('vm', 'net0')],
      ['join', () => host.join('vm')],
      ['leave', () => host.leave(1)],
      ['spawnGuest', () => host.spawnGuest('vm', new URL('./fixtures/guest-fails.mjs', import.meta.url))],
      ['teardown', () => host.teardown()],
      ['memoryBytesFor', () => host.memoryBytesFor([])],
      ['connector', () => host.connector],
      ['admin mkdir', () => adminView(host).mkdir('/config/vbus/instances/x')],
    ];
    for (const [what, fn] of calls) {
      let err: unknown;
      try { fn(); } catch (e) { err = e; }
      expect(err, what).toBeInstanceOf(VbusError);
      expect((err as VbusError).code, what).toBe('EBADF');
      expect((err as VbusError).message, what).toContain('was released');
    }
    expect(host.isReleased).toBe(true);
    await host.release(); // idempotent
  });
});

/**
 * A guest's failures reach the host: an uncaught error, a script that does not load,
 * a driver's probe/remove that throws each end the guest, arrive as a 'guest-error'
 * event (and the guest's onError), and are in what `exited` resolves to; nobody
 * listening means they are logged. A guest that never exits by itself is ended by
 * stop() within its deadline. Each test ends with the named code or event, bounded.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { VbusHost, VbusError, registerVenetClasses, joinBus, type GuestWorker } from '../dist/src/index.js';

const FAILS = new URL('./fixtures/guest-fails.mjs', import.meta.url);
const MISUSE = new URL('./fixtures/guest-misuse.mjs', import.meta.url);

let host: VbusHost | undefined;
afterEach(async () => { vi.restoreAllMocks(); if (host) await host.release(); host = undefined; });

function setup(): { host: VbusHost; bus: ReturnType<VbusHost['createBus']> } {
  host = new VbusHost();
  registerVenetClasses(host);
  const bus = host.createBus('vm', { memoryBytes: 2 << 20 });
  host.setType(host.createDevice('net0'), 'venet-loopback');
  host.link(bus, 'net0');
  return { host, bus };
}

/** Resolves with the first message matching `pred` (bounded by the test timeout). */
function message(g: GuestWorker, pred: (m: any) => boolean): Promise<any> {
  return new Promise((resolve) => g.onMessage((m) => { if (pred(m)) resolve(m); }));
}

const BOUND_MS = 20_000;
function bounded<T>(p: Promise<T>, what: string): Promise<T> {
  let t: ReturnType<typeof setTimeout>;
  return Promise.race([p, new Promise<never>((_, rej) => { t = setTimeout(() => rej(new Error(`${what}: no answer in ${BOUND_MS} ms`)), BOUND_MS); })]).finally(() => clearTimeout(t));
}

describe('guest failures surface on the host', () => {
  it('an uncaught error at top level: guest-error event, exited = { code 1, error }', async () => {
    const { host, bus } = setup();
    const events: VbusError[] = [];
    host.events.on('guest-error', (_g, e) => events.push(e));
    const g = host.spawnGuest(bus, FAILS, { data: { how: 'top' } });
    const exit = await bounded(g.exited, 'exited');
    expect(exit.code).toBe(1);
    expect(exit.error).toBeInstanceOf(VbusError);
    expect(exit.error!.code).toBe('EIO');
    expect(exit.error!.message).toContain('top-level failure in the guest');
    expect(exit.error!.message).toContain(`member ${g.memberId} on bus vm`);
    expect(events).toEqual([exit.error]);
    expect(g.error).toBe(exit.error);
  });

  it('a guest script that does not exist: the error names it, exited = { code 1, error }', async () => {
    const { host, bus } = setup();
    const seen: VbusError[] = [];
    const g = host.spawnGuest(bus, new URL('./fixtures/no-such-guest.mjs', import.meta.url));
    g.onError((e) => seen.push(e));
    const exit = await bounded(g.exited, 'exited');
    expect(exit.code).toBe(1);
    expect(exit.error!.message).toMatch(/no-such-guest\.mjs/);
    expect(seen).toEqual([exit.error]);
    expect(bus.memberCount).toBe(0);
  });

  it('a driver whose probe throws: the error names probe and the device', async () => {
    const { host, bus } = setup();
    const g = host.spawnGuest(bus, FAILS, { data: { how: 'probe', iface: 'virtual-ethernet' } });
    g.onError(() => {});
    const exit = await bounded(g.exited, 'exited');
    expect(exit.code).toBe(1);
    expect(exit.error!.message).toContain("the 'virtual-ethernet' driver threw in probe(device 0): probe failed on purpose");
  });

  it('a driver whose remove throws (the device was unlinked): the error names remove', async () => {
    const { host, bus } = setup();
    const g = host.spawnGuest(bus, FAILS, { data: { how: 'remove', iface: 'virtual-ethernet' } });
    g.onError(() => {});
    await bounded(message(g, (m) => m.event === 'probe'), 'probe');
    host.unlink(bus, 'net0');
    const exit = await bounded(g.exited, 'exited');
    expect(exit.code).toBe(1);
    expect(exit.error!.message).toContain('threw in remove(device 0): remove failed on purpose');
  });

  it('nobody listening: the failure is logged with console.error', async () => {
    const { host, bus } = setup();
    const logged: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => { logged.push(a.join(' ')); });
    const g = host.spawnGuest(bus, FAILS, { data: { how: 'top' } });
    await bounded(g.exited, 'exited');
    expect(logged.some((l) => l.includes('[vbus]') && l.includes('top-level failure'))).toBe(true);
  });

  it('a listener handles it: nothing is logged', async () => {
    const { host, bus } = setup();
    const logged: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => { logged.push(a.join(' ')); });
    host.events.on('guest-error', () => {});
    const g = host.spawnGuest(bus, FAILS, { data: { how: 'top' } });
    await bounded(g.exited, 'exited');
    expect(logged).toEqual([]);
  });

  it('a guest that never exits: stop() runs its onStop handlers and it exits 0', async () => {
    const { host, bus } = setup();
    const g = host.spawnGuest(bus, FAILS, { data: { how: 'stop-handler' } });
    await bounded(message(g, (m) => m.event === 'ready'), 'ready');
    const stopping = message(g, (m) => m.event === 'stopping');
    const exit = await bounded(g.stop(5000), 'stop');
    await stopping;
    expect(exit).toEqual({ code: 0, error: null });
  });

  it('a guest blocked in a wait: stop() terminates it at the deadline (exit code 1, no error)', async () => {
    const { host, bus } = setup();
    const g = host.spawnGuest(bus, FAILS, { data: { how: 'stuck' } });
    await bounded(message(g, (m) => m.event === 'ready'), 'ready');
    const exit = await bounded(g.stop(200), 'stop');
    expect(exit).toEqual({ code: 1, error: null });
    expect(g.running).toBe(false);
  });

  it('host.release() ends a guest that never exits: its exited settles', async () => {
    const { host, bus } = setup();
    const g = host.spawnGuest(bus, FAILS, { data: { how: 'stuck' } });
    await bounded(message(g, (m) => m.event === 'ready'), 'ready');
    await bounded(host.release(), 'release');
    expect((await bounded(g.exited, 'exited')).code).toBe(1);
  });
});

describe('guest-side misuse gets codes that point the right way', () => {
  it('vdisk driver on a virtual-ethernet device: ENODEV naming both; version 7: ENOTSUP naming 1; call after close: EBADF', async () => {
    const { host, bus } = setup();
    const g = host.spawnGuest(bus, MISUSE);
    const got: any[] = [];
    g.onMessage((m) => got.push(m));
    expect((await bounded(g.exited, 'exited')).code).toBe(0);
    const by = Object.fromEntries(got.map((m) => [m.what, m]));
    expect(by['vdisk-on-venet']).toMatchObject({ code: 'ENODEV' });
    expect(by['vdisk-on-venet'].message).toContain("'virtual-ethernet'");
    expect(by['vdisk-on-venet'].message).toContain("'virtual-block'");
    expect(by['version']).toMatchObject({ code: 'ENOTSUP' });
    expect(by['version'].message).toContain('version 7');
    expect(by['version'].message).toContain("the 'virtual-ethernet' driver speaks version 1");
    expect(by['after-close']).toMatchObject({ code: 'EBADF' });
    expect(by['after-close'].message).toContain('closed');
  });

  it('joinBus() outside a worker: ENOTSUP naming spawnGuest', async () => {
    await expect(joinBus()).rejects.toMatchObject({ code: 'ENOTSUP', message: expect.stringContaining('spawnGuest') });
  });
});

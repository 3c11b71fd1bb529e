// The backend pool: devices placed in `backend` share at most as many threads as there
// are cores, each thread serving many devices on many buses; a pinned device gets a
// thread of its own; a device that faults (or cannot start) on a shared thread costs
// only itself; tearing everything down leaves no thread.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { VbusHost, adminView, backendRunner, coreCount } from '../dist/src/internal.js';
import { drive, SCRIPTED_URL, type Scripted } from './helpers/scripted.js';
// @ts-expect-error plain ESM fixture
import { poolEchoClass, faultyClass, brokenClass } from './fixtures/faulty-backend-model.mjs';

let host: VbusHost | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  if (host) { await host.connector.release(); host.release(); host = undefined; }
});

function newHost(): VbusHost {
  host = new VbusHost();
  for (const c of [poolEchoClass, faultyClass, brokenClass]) host.registerClass(c);
  return host;
}

function backendDevice(h: VbusHost, name: string, cls = 'test-pool-echo', pin = false) {
  const d = h.createDevice(name);
  h.setType(d, cls);
  h.setPlacement(d, 'backend', pin ? { pin: true } : {});
  return d;
}

/** One guest on `bus` that has opened `n` devices: their handles in probe order. */
async function guestWith(h: VbusHost, bus: string, n: number): Promise<{ g: Scripted; handles: number[] }> {
  const g = drive(h.spawnGuest(bus, SCRIPTED_URL, { data: { type: 'test-echo' } }));
  // Every probe before the first command: a probe event carries an `id` the helper would take for a reply's.
  for (let i = 0; i < n; i++) await g.waitEvent((e) => e.event === 'probe' && e.id === i);
  const handles: number[] = [];
  for (let i = 0; i < n; i++) handles.push((await g.cmd('open', { dev: i })).handle);
  return { g, handles };
}

/** Calls (byte-exact) and ring records (byte-exact, in order) through one connection. */
async function traffic(g: Scripted, handle: number, seed: number): Promise<void> {
  const r = await g.cmd('call', { handle, func: 1, len: 200, seed, timeoutMs: 10_000 });
  expect(r).toMatchObject({ ok: true, len: 200 });
  expect(r.sum).toBe(r.expect);
  expect((await g.cmd('calls', { handle, func: 1, n: 100 })).ok).toBe(100);
  expect(await g.cmd('loop', { handle, n: 100, len: 48 })).toMatchObject({ got: 100, bad: 0 });
}

describe('backend pool', () => {
  it('serves 32 backend devices on 8 buses with at most one thread per core; all traffic byte-exact; teardown leaves no thread', async () => {
    const h = newHost();
    for (let b = 0; b < 8; b++) {
      const bus = h.createBus(`b${b}`, { memoryBytes: 1 << 21 });
      for (let i = 0; i < 4; i++) h.link(bus, backendDevice(h, `echo${b}.${i}`));
    }
    const guests = await Promise.all(Array.from({ length: 8 }, (_, b) => guestWith(h, `b${b}`, 4)));
    await Promise.all(guests.map(({ g, handles }, b) => Promise.all(handles.map((handle, i) => traffic(g, handle, b * 4 + i)))));

    const threads = h.backendThreads();
    expect(threads.length).toBeGreaterThanOrEqual(1);
    expect(threads.length).toBeLessThanOrEqual(coreCount());
    expect(threads.every((t) => !t.pinned)).toBe(true);
    const served = threads.flatMap((t) => t.devices.map((d) => `${d.bus}:${d.id}`)).sort();
    expect(served).toEqual(Array.from({ length: 32 }, (_, k) => `b${k >> 2}:${k & 3}`).sort());
    // Least-loaded assignment: no thread serves more than its share rounded up.
    for (const t of threads) expect(t.devices.length).toBeLessThanOrEqual(Math.ceil(32 / threads.length));
    // The admin view shows the same threads.
    const admin = adminView(h);
    expect(admin.readdir('/sys/vbus/backends').sort()).toEqual(threads.map((t) => String(t.thread)).sort());
    const t0 = threads[0]!;
    expect(admin.read(`/sys/vbus/backends/${t0.thread}/devices`).trim().split('\n').sort()).toEqual(t0.devices.map((d) => `${d.bus} ${d.id}`).sort());
    expect(admin.read(`/sys/vbus/backends/${t0.thread}/pinned`)).toBe('0\n');

    // Unlinking a device frees its share; every other device keeps being served.
    h.unlink('b0', 'echo0.0');
    await vi.waitFor(() => expect(h.backendThreads().flatMap((t) => t.devices)).toHaveLength(31), { timeout: 10_000 });
    await traffic(guests[0]!.g, guests[0]!.handles[1]!, 99);

    await h.connector.release();
    expect(backendRunner().threads()).toEqual([]);
    await backendRunner().close();
    expect(h.backendThreads()).toEqual([]);
    expect(admin.exists('/sys/vbus/backends')).toBe(false);
  });

  it('a pinned device gets a thread of its own; pinning is checked', async () => {
    const h = newHost();
    const b0 = h.createBus('p0', { memoryBytes: 1 << 21 });
    const b1 = h.createBus('p1', { memoryBytes: 1 << 21 });
    h.link(b0, backendDevice(h, 'hot', 'test-pool-echo', true));
    h.link(b0, backendDevice(h, 'cold0'));
    h.link(b1, backendDevice(h, 'cold1'));
    h.link(b1, backendDevice(h, 'cold2'));
    expect(h.device('hot')!.pinned).toBe(true);
    expect(h.device('cold0')!.pinned).toBe(false);
    const a = await guestWith(h, 'p0', 2);
    const c = await guestWith(h, 'p1', 2);
    await Promise.all([traffic(a.g, a.handles[0]!, 1), traffic(a.g, a.handles[1]!, 2), traffic(c.g, c.handles[0]!, 3), traffic(c.g, c.handles[1]!, 4)]);

    const threads = h.backendThreads();
    const pinned = threads.filter((t) => t.pinned);
    expect(pinned).toHaveLength(1);
    expect(pinned[0]!.devices).toEqual([{ bus: 'p0', id: 0 }]);
    expect(threads.filter((t) => !t.pinned).flatMap((t) => t.devices)).toHaveLength(3);
    expect(threads.filter((t) => !t.pinned).length).toBeLessThanOrEqual(coreCount());
    expect(adminView(h).read(`/sys/vbus/backends/${pinned[0]!.thread}/pinned`)).toBe('1\n');

    // Refusals change nothing.
    const d = h.createDevice('other');
    h.setType(d, 'test-pool-echo');
    const refuse = (fn: () => void, msg: RegExp) => expect(fn).toThrow(expect.objectContaining({ code: 'EINVAL', message: expect.stringMatching(msg) }));
    refuse(() => h.setPlacement(d, 'host', { pin: true }), /only a backend-placed device/);
    refuse(() => h.setPlacement(d, 'backend', { pin: 'yes' } as never), /pin must be true or false/);
    refuse(() => h.setPlacement(d, 'backend', { pinned: true } as never), /unknown option 'pinned'/);
    expect(d.placement).toBe('host');
    expect(d.pinned).toBe(false);

    await h.connector.release();
    expect(backendRunner().threads()).toEqual([]);
  });

  it('pins beyond one per core are served by the shared threads; every pinned device is still served', async () => {
    const h = newHost();
    const bus = h.createBus('pp', { memoryBytes: 1 << 22 });
    const n = coreCount() + 1;
    for (let i = 0; i < n; i++) h.link(bus, backendDevice(h, `pin${i}`, 'test-pool-echo', true));
    const { g, handles } = await guestWith(h, 'pp', n);
    for (let i = 0; i < n; i++) await traffic(g, handles[i]!, 40 + i);
    const threads = h.backendThreads();
    const pinned = threads.filter((t) => t.pinned);
    expect(pinned).toHaveLength(coreCount());
    for (const t of pinned) expect(t.devices).toHaveLength(1);
    expect(threads.filter((t) => !t.pinned).flatMap((t) => t.devices)).toHaveLength(1);
    await h.connector.release();
    expect(backendRunner().threads()).toEqual([]);
  });

  it('a device that faults, or cannot start, on a shared thread costs only itself', async () => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => { errors.push(a.map(String).join(' ')); });
    const h = newHost();
    const bus = h.createBus('f0', { memoryBytes: 1 << 22 });
    // One device per core first, so the faulty one (linked next) shares a thread with a good one.
    const good = Math.max(1, coreCount());
    for (let i = 0; i < good; i++) h.link(bus, backendDevice(h, `good${i}`));
    h.link(bus, backendDevice(h, 'faulty', 'test-pool-faulty'));
    h.link(bus, backendDevice(h, 'broken', 'test-pool-broken'));
    const faultyId = good, brokenId = good + 1;
    const about = (id: number) => errors.filter((e) => e.includes(`device ${id} on bus f0`));
    const g = drive(h.spawnGuest('f0', SCRIPTED_URL, { data: { type: 'test-echo' } })); // the bus's devices start now
    for (let i = 0; i < good + 2; i++) await g.waitEvent((e) => e.event === 'probe' && e.id === i);
    // The device that could not start is reported, once, for itself.
    await vi.waitFor(() => expect(about(brokenId).filter((e) => /noSuchFactory/.test(e))).toHaveLength(1), { timeout: 20_000 });
    const handles: number[] = [];
    for (let i = 0; i <= faultyId; i++) handles.push((await g.cmd('open', { dev: i })).handle);
    // ... and refuses to be opened (the others on the bus open and serve).
    expect(await g.cmd('open', { dev: brokenId })).toMatchObject({ ok: false, error: 'ENODEV' });

    const threads = h.backendThreads();
    const home = threads.find((t) => t.devices.some((d) => d.id === faultyId))!;
    expect(home.devices.length).toBeGreaterThan(1); // it shares its thread

    const fh = handles[faultyId]!;
    expect(await g.cmd('call', { handle: fh, func: 7, len: 8, timeoutMs: 10_000 })).toMatchObject({ ok: false, error: 'EIO' });
    expect(await g.cmd('call', { handle: fh, func: 9, len: 8, timeoutMs: 10_000 })).toMatchObject({ ok: false, error: 'EIO' });
    // Its rings: every poll throws; the records wait, nothing else notices.
    await g.cmd('txPush', { handle: fh, queue: 0, bytes: 1 << 12, n: 8, len: 32 });
    // A call that behaves is still answered (a fault is per call, not per device).
    const ok = await g.cmd('call', { handle: fh, func: 1, len: 64, seed: 5, timeoutMs: 10_000 });
    expect(ok.sum).toBe(ok.expect);

    // Every good device, those on the faulty one's thread included, keeps being served.
    for (let i = 0; i < good; i++) await traffic(g, handles[i]!, 10 + i);

    expect(about(faultyId).some((e) => /TypeError: hostile model/.test(e))).toBe(true);
    expect(about(faultyId).some((e) => /string/.test(e))).toBe(true);
    expect(about(brokenId).filter((e) => /noSuchFactory/.test(e))).toHaveLength(1);
    for (let i = 0; i < good; i++) expect(about(i)).toEqual([]);

    await h.connector.release();
    expect(backendRunner().threads()).toEqual([]);
  });
});

// vdisk refusals: memory backing, read-only disks (EROFS), misaligned and out-of-range
// requests (EINVAL from the device, counted in `errors`), attribute checks, and a
// hostile guest writing garbage descriptors and corrupting its ring, which faults only
// its own connection: the host, the same disk for a new connection, and another vdisk
// on another bus keep working.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VbusHost, vdiskClass } from '../dist/src/index.js';
import { drive } from './helpers/scripted.js';
import { PLACED_TRANSPORTS, type Transport } from './helpers/transports.js';
import { randomOps, replay, VDISK_GUEST_URL } from './helpers/vdisk-workload.js';

let host: VbusHost | undefined;
let dir: string | undefined;
afterEach(async () => {
  if (host) { await host.connector.release(); host.teardown(); host = undefined; }
  if (dir) { rmSync(dir, { recursive: true, force: true }); dir = undefined; }
});

function setup(disks: Array<{ bus: string; attrs: Record<string, string>; placement?: 'host' | 'backend' }>, transport: Transport = 'shared') {
  host = new VbusHost({ transport });
  host.registerClass(vdiskClass);
  return disks.map((d, i) => {
    const bus = host!.bus(d.bus) ?? host!.createBus(d.bus, { memoryBytes: 16 << 20 });
    const dev = host!.createDevice(`disk${i}`);
    host!.setType(dev, 'vdisk');
    for (const [k, v] of Object.entries(d.attrs)) dev.setAttr(k, v);
    host!.setPlacement(dev, d.placement ?? 'host');
    host!.link(bus, dev);
    return { bus, dev };
  });
}

async function guestOn(bus: Parameters<VbusHost['spawnGuest']>[0]) {
  const g = drive(host!.spawnGuest(bus, VDISK_GUEST_URL));
  await g.waitEvent((e) => e.event === 'ready');
  return g;
}

describe.each(PLACED_TRANSPORTS)('vdisk refusals, device in the $placement thread, $transport transport', ({ placement, transport }) => {
  it('a memory-backed disk (empty src_path) serves a random workload; its bytes outlive a guest', async () => {
    const [{ bus, dev }] = setup([{ bus: 'm', attrs: { capacity: '1M' }, placement }], transport);
    expect(dev.attr('capacity')).toBe(String(1 << 20));
    const g = await guestOn(bus!);
    expect(await g.cmd('open', { dev: 0, queueDepth: 32 })).toMatchObject({ ok: true, capacity: 1 << 20, volatileCache: false });
    const seed = 4242;
    const ops = randomOps(seed, { capacity: 1 << 20, blockSize: 512, n: 1500, maxBlocks: 16, bigBytes: 0 });
    const shadow = new Uint8Array(1 << 20);
    const expected = replay(ops, seed, shadow);
    const r = await g.cmd('run', { dev: 0, ops, seed, window: 32 });
    expect(r.errors).toEqual([]);
    expect(r.hashes).toEqual(expected);
    await g.cmd('close', { dev: 0 });
    // another guest on the same bus reads what the first one wrote
    const g2 = await guestOn(bus!);
    await g2.cmd('open', { dev: 0 });
    const all = await g2.cmd('readAll', { dev: 0 });
    expect(Buffer.compare(Buffer.from(all.bytes), Buffer.from(shadow))).toBe(0);
  });

  it('a read-only disk reads its file, refuses writes with EROFS and counts them as errors', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vdisk-ro-'));
    const path = join(dir, 'ro.img');
    const content = Buffer.alloc(64 << 10);
    for (let i = 0; i < content.length; i++) content[i] = (i * 7 + 3) & 255;
    writeFileSync(path, content);
    const [{ bus, dev }] = setup([{ bus: 'r', attrs: { src_path: path, readonly: '1' }, placement }], transport);
    const g = await guestOn(bus!);
    expect(await g.cmd('open', { dev: 0 })).toMatchObject({ ok: true, capacity: 64 << 10, readonly: true });
    const all = await g.cmd('readAll', { dev: 0 });
    expect(Buffer.compare(Buffer.from(all.bytes), content)).toBe(0);
    expect(await g.cmd('io', { dev: 0, op: 'write', offset: 0, len: 4096 })).toMatchObject({ result: 'error', code: 'EROFS' });
    expect(await g.cmd('io', { dev: 0, op: 'write', offset: 4096, len: 512, sync: true })).toMatchObject({ result: 'error', code: 'EROFS' });
    expect(await g.cmd('io', { dev: 0, op: 'flush' })).toMatchObject({ result: 'ok' });
    expect(dev.attr('errors')).toBe('2');
    expect(dev.attr('writes')).toBe('0');
    const again = await g.cmd('readAll', { dev: 0, sync: true });
    expect(Buffer.compare(Buffer.from(again.bytes), content)).toBe(0);
  });

  it('misaligned and out-of-range requests fail with EINVAL from the device and count as errors', async () => {
    const [{ bus, dev }] = setup([{ bus: 'e', attrs: { capacity: '64K' }, placement }], transport);
    const g = await guestOn(bus!);
    await g.cmd('open', { dev: 0 });
    const cap = 64 << 10;
    const bad = [
      { op: 'read', offset: 100, len: 512 }, // misaligned offset
      { op: 'write', offset: 0, len: 100 }, // misaligned length
      { op: 'read', offset: cap, len: 512 }, // starts at the end
      { op: 'write', offset: cap - 512, len: 1024 }, // runs past the end
      { op: 'read', offset: 2 ** 40, len: 4096, sync: true }, // far beyond
    ];
    for (const b of bad) expect(await g.cmd('io', { dev: 0, ...b }), JSON.stringify(b)).toMatchObject({ result: 'error', code: 'EINVAL' });
    expect(dev.attr('errors')).toBe(String(bad.length));
    expect(dev.attr('reads')).toBe('0');
    expect(dev.attr('writes')).toBe('0');
    // a refused write changed nothing; good requests still work
    expect(await g.cmd('io', { dev: 0, op: 'write', offset: cap - 512, len: 512, seed: 9 })).toMatchObject({ result: 'ok' });
    const first = await g.cmd('io', { dev: 0, op: 'read', offset: 0, len: 512 });
    const zeros = await g.cmd('io', { dev: 0, op: 'read', offset: 512, len: 512 });
    expect(first.hash).toBe(zeros.hash); // offset 0 was never written
    expect(dev.attr('writes')).toBe('1');
  });

  it('garbage descriptors complete with EINVAL; a corrupt ring faults only that connection; another vdisk on another bus is unharmed', async () => {
    const [a, b] = setup([{ bus: 'h1', attrs: { capacity: '1M' }, placement }, { bus: 'h2', attrs: { capacity: '1M' }, placement }], transport);
    const bad = await guestOn(a!.bus);
    const good = await guestOn(b!.bus);
    await good.cmd('open', { dev: 0, queueDepth: 16 });
    const seed = 31337;
    const ops = randomOps(seed, { capacity: 1 << 20, blockSize: 512, n: 800, maxBlocks: 8 });
    const shadow = new Uint8Array(1 << 20);
    const expected = replay(ops, seed, shadow);
    const running = good.cmd('run', { dev: 0, ops, seed, window: 16 }); // runs while the other guest misbehaves

    const h = await bad.cmd('hostile', { dev: 0, corrupt: true });
    expect(h.ok).toBe(true);
    expect(h.infoLen).toBe(24);
    const byId = Object.fromEntries((h.completions as Array<{ id: number; status: number }>).map((c) => [c.id, c.status]));
    for (let id = 1; id <= 8; id++) expect(byId[id], `descriptor ${id}`).toBe(-22);
    expect(byId[9]).toBe(-22); // the short record still carries its id
    expect(byId[10]).toBe(0); // a good request after the garbage is served
    expect(Number(a!.dev.attr('errors'))).toBeGreaterThanOrEqual(9);
    expect(a!.dev.attr('reads')).toBe('1');

    const done = await running;
    expect(done.errors).toEqual([]);
    expect(done.hashes).toEqual(expected);
    expect(b!.dev.attr('errors')).toBe('0');

    // The corrupt ring is counted, and a fresh connection on the same disk works.
    await expect.poll(() => Number(a!.dev.attr('errors')), { timeout: 10_000 }).toBeGreaterThanOrEqual(10);
    await bad.cmd('open', { dev: 0 });
    expect(await bad.cmd('io', { dev: 0, op: 'write', offset: 4096, len: 4096, seed: 5 })).toMatchObject({ result: 'ok' });
    expect(await bad.cmd('io', { dev: 0, op: 'read', offset: 4096, len: 4096 })).toMatchObject({ result: 'ok', len: 4096 });
  });
});

describe('vdisk attributes', () => {
  it('validates values, refuses configuration changes while linked, and refuses a link it cannot serve', () => {
    host = new VbusHost();
    host.registerClass(vdiskClass);
    const bus = host.createBus('a', { memoryBytes: 4 << 20 });
    const dev = host.createDevice('d');
    host.setType(dev, 'vdisk');
    expect(dev.attrNames()).toEqual(['block_size', 'capacity', 'errors', 'flushes', 'inflight_max', 'queues', 'readonly', 'reads', 'src_path', 'writes']);
    expect(() => dev.setAttr('capacity', '1000')).toThrow(expect.objectContaining({ code: 'EINVAL' })); // not a multiple of 512
    expect(() => dev.setAttr('capacity', 'lots')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => dev.setAttr('block_size', '1000')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => dev.setAttr('readonly', 'maybe')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => dev.setAttr('reads', '5')).toThrow(expect.objectContaining({ code: 'EACCES' }));
    // no capacity and no file: the link is refused and nothing changes
    expect(() => host!.link(bus, dev)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(dev.links()).toEqual([]);
    // a missing read-only file: ENOENT naming the path
    dev.setAttr('src_path', '/nonexistent/dir/disk.img');
    dev.setAttr('readonly', '1');
    expect(() => host!.link(bus, dev)).toThrow(expect.objectContaining({ code: 'ENOENT', message: expect.stringContaining('/nonexistent/dir/disk.img') }));
    dev.setAttr('src_path', '');
    dev.setAttr('readonly', '0');
    dev.setAttr('capacity', '2M');
    dev.setAttr('block_size', '4096');
    host.link(bus, dev);
    expect(dev.attr('capacity')).toBe(String(2 << 20));
    for (const [k, v] of [['capacity', '4M'], ['src_path', '/tmp/x'], ['readonly', '1'], ['block_size', '512']]) {
      expect(() => dev.setAttr(k!, v!)).toThrow(expect.objectContaining({ code: 'EBUSY' }));
    }
    expect(dev.attr('block_size')).toBe('4096');
    host.unlink(bus, dev);
    dev.setAttr('capacity', '4M'); // free again once unlinked
    expect(dev.attr('capacity')).toBe(String(4 << 20));
  });
});

// vdisk against a real temporary file: a seeded random workload with many requests in
// flight, run by a real guest worker through the driver, in host and backend placement;
// after the final flush the file's bytes equal the shadow, and a second host opening the
// same file sees them through its own guest.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VbusHost, vdiskClass } from '../dist/src/index.js';
import { drive } from './helpers/scripted.js';
import { randomOps, replay, VDISK_GUEST_URL } from './helpers/vdisk-workload.js';

const hosts: VbusHost[] = [];
let dir: string | undefined;
afterEach(async () => {
  for (const h of hosts.splice(0)) { await h.connector.release(); h.teardown(); }
  if (dir) { rmSync(dir, { recursive: true, force: true }); dir = undefined; }
});

function tempFile(name: string): string {
  dir ??= mkdtempSync(join(tmpdir(), 'vdisk-test-'));
  return join(dir, name);
}

function diskHost(placement: 'host' | 'backend', attrs: Record<string, string>, busName = 'b0') {
  const host = new VbusHost();
  hosts.push(host);
  host.registerClass(vdiskClass);
  const bus = host.createBus(busName, { memoryBytes: 16 << 20 });
  const dev = host.createDevice('disk0');
  host.setType(dev, 'vdisk');
  for (const [k, v] of Object.entries(attrs)) dev.setAttr(k, v);
  host.setPlacement(dev, placement);
  host.link(bus, dev);
  const g = drive(host.spawnGuest(bus, VDISK_GUEST_URL));
  return { host, bus, dev, g };
}

const CAPACITY = 8 << 20;
const BS = 512;

describe.each(['host', 'backend'] as const)('vdisk on a file, device in the %s thread', (placement) => {
  it('random reads, writes and flushes with 64 in flight match a shadow; the file holds it; a second host sees it', async () => {
    const path = tempFile('disk.img');
    const { dev, g } = diskHost(placement, { src_path: path, capacity: String(CAPACITY) });
    await g.waitEvent((e) => e.event === 'ready');
    const geo = await g.cmd('open', { dev: 0, queueDepth: 64 });
    expect(geo).toMatchObject({ ok: true, capacity: CAPACITY, blockSize: BS, readonly: false, volatileCache: true });
    expect(readFileSync(path).length).toBe(CAPACITY); // created and extended (sparse) at link

    const seed = placement === 'host' ? 0x5eed01 : 0x5eed02;
    const ops = randomOps(seed, { capacity: CAPACITY, blockSize: BS, n: 3000, maxBlocks: 64, bigBytes: 1536 << 10 });
    const shadow = new Uint8Array(CAPACITY);
    const expected = replay(ops, seed, shadow);
    const r = await g.cmd('run', { dev: 0, ops, seed, window: 64 });
    expect(r.ok).toBe(true);
    expect(r.errors).toEqual([]);
    expect(r.hashes).toEqual(Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, v])));
    expect(r.peak).toBeGreaterThanOrEqual(32); // the guest kept many requests in flight
    expect(r.stats.spurious).toBe(0);
    expect(r.stats.completed).toBe(r.stats.submitted);
    // one notification for many completions: the guest was woken far fewer times than it got completions
    expect(r.stats.notifications).toBeLessThan(r.stats.completed / 2);
    expect((await g.cmd('io', { dev: 0, op: 'flush' })).result).toBe('ok');

    // The backing file holds exactly the shadow once flushed.
    expect(Buffer.compare(readFileSync(path), Buffer.from(shadow))).toBe(0);

    const nWrites = ops.filter((o) => o[0] === 'w').length;
    const nReads = ops.filter((o) => o[0] === 'r').length;
    expect(Number(dev.attr('writes'))).toBeGreaterThanOrEqual(nWrites); // large ones are split into several requests
    expect(Number(dev.attr('reads'))).toBeGreaterThanOrEqual(nReads);
    expect(Number(dev.attr('flushes'))).toBe(ops.filter((o) => o[0] === 'f').length + 1);
    expect(dev.attr('errors')).toBe('0');
    expect(Number(dev.attr('inflight_max'))).toBeGreaterThan(1); // the device took many requests per wake-up
    expect(dev.attr('capacity')).toBe(String(CAPACITY));

    // A second host, its own bus and guest, opening the same file (capacity 0: the file's size).
    const other = diskHost(placement, { src_path: path }, 'b1');
    await other.g.waitEvent((e) => e.event === 'ready');
    expect((await other.g.cmd('open', { dev: 0 })).capacity).toBe(CAPACITY);
    const all = await other.g.cmd('readAll', { dev: 0, into: true });
    expect(Buffer.compare(Buffer.from(all.bytes), Buffer.from(shadow))).toBe(0);
  });

  it('the synchronous forms (readSync, writeSync, flushSync) run the same workload', async () => {
    const path = tempFile('sync.img');
    writeFileSync(path, Buffer.alloc(1 << 20, 0xa5)); // an existing file: capacity from its size
    const { g } = diskHost(placement, { src_path: path });
    await g.waitEvent((e) => e.event === 'ready');
    expect((await g.cmd('open', { dev: 0, queueDepth: 8, bufferBytes: 256 << 10 })).capacity).toBe(1 << 20);
    const seed = 77;
    const ops = randomOps(seed, { capacity: 1 << 20, blockSize: BS, n: 600, maxBlocks: 32, bigBytes: 192 << 10 });
    const shadow = new Uint8Array(1 << 20).fill(0xa5);
    const expected = replay(ops, seed, shadow);
    const r = await g.cmd('run', { dev: 0, ops, seed, sync: true });
    expect(r.errors).toEqual([]);
    expect(r.hashes).toEqual(expected);
    expect((await g.cmd('io', { dev: 0, op: 'flush', sync: true })).result).toBe('ok');
    expect(Buffer.compare(readFileSync(path), Buffer.from(shadow))).toBe(0);
    const all = await g.cmd('readAll', { dev: 0, sync: true, into: true });
    expect(Buffer.compare(Buffer.from(all.bytes), Buffer.from(shadow))).toBe(0);
  });
});

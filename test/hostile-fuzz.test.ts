// The hostile-guest suite: a fuzzer guest (test/fixtures/guest-fuzzer.mjs) opens every
// shipped device class it can on its bus (venet-loopback, venet-switch, venet-tap bridged
// to a UDP socket the test owns and feeds, vdisk in memory and on a file, vconsole, vrng;
// the loopback and both disks in host and in backend placement; the tap is host-only) and stores
// seeded random words into every region of its bus memory while forging requests. On
// another bus of the same host, well-behaved guests check their traffic byte for byte.
// It must show: no host exception, no lost or corrupt frame or block on the other bus,
// and, after the storm, a new guest joins the fuzzed bus and its calls succeed (no
// destroyBus). Seeded; a short pass by default, VBUS_LONG=1 for a long one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { VbusHost, registerVenetClasses, vdiskClass, vconsoleClass, vrngClass, type Bus } from '../dist/src/index.js';
import { drive } from './helpers/scripted.js';
import { venetGuest, VENET_GUEST_URL } from './helpers/venet.js';
import { randomOps, replay, VDISK_GUEST_URL } from './helpers/vdisk-workload.js';
import { fillPayload, checksumBytes } from '../dist/src/testing/index.js';
import { udpEnd } from './helpers/tap-scenarios.js';

const LONG = process.env.VBUS_LONG === '1';
const STORM_MS = LONG ? 60_000 : 3_000;
const FUZZER_URL = new URL('./fixtures/guest-fuzzer.mjs', import.meta.url);
const DISK = 1 << 20;

let host: VbusHost | undefined;
const cleanups: Array<() => void> = [];
afterEach(async () => {
  if (host) { await host.connector.release(); host.release(); host = undefined; }
  for (const c of cleanups.splice(0)) c();
});

function addDevice(h: VbusHost, bus: Bus, name: string, type: string, placement: 'host' | 'backend', attrs: Record<string, string> = {}) {
  const dev = h.createDevice(name);
  h.setType(dev, type);
  for (const [k, v] of Object.entries(attrs)) dev.setAttr(k, v);
  h.setPlacement(dev, placement);
  h.link(bus, dev);
  return dev;
}

describe.each(['host', 'backend'] as const)('a fuzzer guest storms its bus (loopback and disk in the %s placement)', (placement) => {
  it('no host exception, other bus byte-exact, and a new guest is served on the stormed bus afterwards', async () => {
    const hostErrors: unknown[] = [];
    const onErr = (e: unknown) => { hostErrors.push(e); };
    process.on('uncaughtException', onErr);
    process.on('unhandledRejection', onErr);
    try {
      host = new VbusHost();
      registerVenetClasses(host);
      host.registerClass(vdiskClass);
      host.registerClass(vconsoleClass);
      host.registerClass(vrngClass);
      const fz = host.createBus('fz', { memoryBytes: 16 << 20 });
      addDevice(host, fz, 'fz-lo', 'venet-loopback', placement);
      addDevice(host, fz, 'fz-sw', 'venet-switch', 'host');
      addDevice(host, fz, 'fz-disk', 'vdisk', placement, { capacity: String(DISK) });
      addDevice(host, fz, 'fz-con', 'vconsole', 'host');
      addDevice(host, fz, 'fz-rng', 'vrng', 'host');
      // A tap bridged to a UDP socket the test owns: frames the fuzzer sends out arrive
      // there, and the test sends seeded datagrams in while the storm lasts.
      const far = await udpEnd();
      cleanups.push(() => far.close());
      const tap = addDevice(host, fz, 'fz-tap', 'venet-tap', 'host', { ifname: `udp:127.0.0.1:0,peer=127.0.0.1:${far.port}` });
      tap.setAttr('enabled', '1');
      const dir = mkdtempSync(join(tmpdir(), 'vbus-fuzz-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      addDevice(host, fz, 'fz-file', 'vdisk', placement, { src_path: join(dir, 'disk.img'), capacity: String(DISK) });
      const good = host.createBus('good', { memoryBytes: 8 << 20 });
      addDevice(host, good, 'good-lo', 'venet-loopback', placement);
      addDevice(host, good, 'good-disk', 'vdisk', placement, { capacity: String(DISK) });

      const net = await venetGuest(host, good, 0);
      const disk = drive(host.spawnGuest(good, VDISK_GUEST_URL));
      await disk.waitEvent((e) => e.event === 'ready');
      expect((await disk.cmd('open', { dev: 1, queueDepth: 32 })).ok).toBe(true);

      const fuzzer = drive(host.spawnGuest(fz, FUZZER_URL));
      await fuzzer.waitEvent((e) => e.event === 'ready');
      const seed = placement === 'host' ? 0xf022 : 0xf023;
      fuzzer.guest.postMessage({ cmd: 'storm', seed, ms: STORM_MS });
      const tapPort = Number(/^udp:[^,]*:(\d+)/.exec(tap.attr('ifname'))![1]);
      let datagramsIn = 0;
      const feeder = setInterval(() => {
        for (let i = 0; i < 8; i++) {
          const d = new Uint8Array(14 + ((datagramsIn * 37) % 1500));
          fillPayload(0xda7a, datagramsIn, d, 0, d.length);
          far.sock.send(d, tapPort, '127.0.0.1');
          datagramsIn++;
        }
      }, 5);
      cleanups.push(() => clearInterval(feeder));

      // The other bus's traffic, in rounds, while the storm lasts.
      const shadow = new Uint8Array(DISK);
      let frames = 0, rounds = 0, diskOps = 0;
      const stormEnd = Date.now() + STORM_MS;
      while (Date.now() < stormEnd || rounds === 0) {
        const sizes = Array.from({ length: 200 }, (_, i) => 14 + ((i * 131 + rounds * 17) % 1500));
        const r = await net.cmd('echo', { sizes, seed: 1000 + rounds });
        expect(r, `echo round ${rounds}`).toMatchObject({ ok: true, got: sizes.length, bad: 0 });
        frames += sizes.length;
        const dseed = 77 + rounds;
        const ops = randomOps(dseed, { capacity: DISK, blockSize: 512, n: 300, maxBlocks: 16 });
        const expected = replay(ops, dseed, shadow);
        const d = await disk.cmd('run', { dev: 1, ops, seed: dseed, window: 32 });
        expect(d.errors, `disk round ${rounds}`).toEqual([]);
        expect(d.hashes).toEqual(expected);
        diskOps += ops.length;
        rounds++;
      }
      const all = await disk.cmd('readAll', { dev: 1 });
      expect(Buffer.compare(Buffer.from(all.bytes), Buffer.from(shadow))).toBe(0);

      const t0 = Date.now();
      const storm = await fuzzer.waitEvent((e) => e.event === 'storm', STORM_MS + 30_000).catch(() => fuzzer.events.filter((e) => e.event === 'progress').at(-1) ?? { writes: 0, forged: 0 });
      expect(Number(storm.writes)).toBeGreaterThan(1000);
      clearInterval(feeder);
      if (storm.event === 'storm') {
        expect(storm.opened).toEqual(['virtual-ethernet', 'virtual-ethernet', 'virtual-block', 'virtual-console', 'virtual-entropy', 'virtual-ethernet', 'virtual-block']);
      }
      console.log(`storm report after ${Date.now() - t0} ms`);
      await fuzzer.guest.terminate();

      // Recovery: a new guest joins the stormed bus and its device calls succeed.
      const fresh = drive(host.spawnGuest(fz, VDISK_GUEST_URL));
      const ready = await fresh.waitEvent((e) => e.event === 'ready');
      const seen = ready.devices as Array<{ id: number; type: string }>;
      const diskId = seen.find((x) => x.type === 'virtual-block')?.id;
      expect(diskId, `the new guest sees the disk: ${JSON.stringify(seen)}`).toBeTypeOf('number');
      const reopened = await fresh.cmd('open', { dev: diskId, queueDepth: 8, timeoutMs: 10_000 });
      expect(reopened, JSON.stringify(reopened)).toMatchObject({ ok: true, capacity: DISK });
      expect((await fresh.cmd('io', { dev: diskId, op: 'write', offset: 4096, len: 4096, seed: 9 })).result).toBe('ok');
      const back = await fresh.cmd('io', { dev: diskId, op: 'read', offset: 4096, len: 4096 });
      const want = new Uint8Array(4096); fillPayload(9, 0, want, 0, 4096);
      expect(back).toMatchObject({ result: 'ok', hash: checksumBytes(0x811c9dc5, want, 0, 4096) });
      // The file-backed disk too (the last block device on the bus).
      const fileId = seen.filter((x) => x.type === 'virtual-block').at(-1)!.id;
      expect(fileId).not.toBe(diskId);
      expect((await fresh.cmd('open', { dev: fileId, queueDepth: 8, timeoutMs: 10_000 })).ok).toBe(true);
      expect((await fresh.cmd('io', { dev: fileId, op: 'write', offset: 8192, len: 4096, seed: 9 })).result).toBe('ok');
      expect(await fresh.cmd('io', { dev: fileId, op: 'read', offset: 8192, len: 4096 })).toMatchObject({ result: 'ok', hash: checksumBytes(0x811c9dc5, want, 0, 4096) });
      const fnet = drive(host.spawnGuest(fz, VENET_GUEST_URL));
      await fnet.waitEvent((e) => e.event === 'ready');
      expect((await fnet.cmd('open', { dev: 0, opts: { timeoutMs: 10_000 } })).ok).toBe(true);
      expect(await fnet.cmd('echo', { sizes: [60, 1514, 14], seed: 4 })).toMatchObject({ ok: true, got: 3, bad: 0 });

      expect(hostErrors).toEqual([]);
      let datagramsOut = 0;
      for (;;) { try { await far.next(1); datagramsOut++; } catch { break; } }
      console.log(`hostile fuzz (${placement}): ${storm.writes} writes, ${storm.forged} requests forged, opened ${JSON.stringify(storm.opened)}, ${storm.regions} regions, ` +
        `tap: ${datagramsIn} datagrams fed in, ${datagramsOut} frames out; ` +
        `fuzzer-side errors ${storm.errors}; other bus: ${frames} frames and ${diskOps} disk ops in ${rounds} rounds, 0 lost or corrupt; host exceptions ${hostErrors.length}; new guest served`);
    } finally {
      process.off('uncaughtException', onErr);
      process.off('unhandledRejection', onErr);
    }
  }, LONG ? 300_000 : 90_000);
});

describe('a backend doorbell overwritten by a guest', () => {
  it('is restored by the host: a new guest still opens the backend devices', async () => {
    host = new VbusHost();
    registerVenetClasses(host);
    host.registerClass(vdiskClass);
    const bus = host.createBus('db', { memoryBytes: 16 << 20 });
    addDevice(host, bus, 'db-disk', 'vdisk', 'backend', { capacity: String(DISK) });
    const bad = drive(host.spawnGuest(bus, FUZZER_URL));
    await bad.waitEvent((e) => e.event === 'ready');
    bad.guest.postMessage({ cmd: 'smash-doorbells' });
    const smashed = await bad.waitEvent((e) => e.event === 'smashed');
    expect((smashed.offsets as number[]).length).toBe(1);
    const fresh = drive(host.spawnGuest(bus, VDISK_GUEST_URL));
    await fresh.waitEvent((e) => e.event === 'ready');
    const r = await fresh.cmd('open', { dev: 0, queueDepth: 8, timeoutMs: 10_000 });
    expect(r, JSON.stringify(r)).toMatchObject({ ok: true, capacity: DISK });
    expect((await fresh.cmd('io', { dev: 0, op: 'write', offset: 0, len: 512, seed: 3 })).result).toBe('ok');
  }, 60_000);
});


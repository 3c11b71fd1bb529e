// The target's side of the migration stream against a hostile or broken source, in one
// process: a frame longer than the bound, pages outside the images announced, a state
// that names other buses than its HELLO, a source that goes silent. Each is refused
// (EPROTO / ETIMEDOUT reported through onFailed), nothing is left on the target, and the
// target takes a good migration afterwards, over TCP as well as a Unix socket. A HELLO
// that names guests has their workers started and waiting (PARKED) before any state; a
// source does not wait past its deadline for a PARKED that comes late. And the
// other way round: a source whose target stops reading gives up within its deadline.
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SNAPSHOT_VERSION, encodeSnapshot, listenForMigration, loadDeviceState, migrate, saveDeviceState, type MigrationAddress, type VbusError, type VbusHost } from '../dist/src/internal.js';
import { useHosts } from './helpers/state-host.js';

const dir = mkdtempSync(join(tmpdir(), 'vbus-migstream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const makeHost = useHosts();

const HELLO = 1, ACCEPT = 2, REFUSE = 3, PAGES = 4, STATE = 5, READY = 6, GO = 8, RESUMED = 9, PARKED = 10;

function frame(type: number, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32LE(body.length, 0);
  head[4] = type;
  return Buffer.concat([head, body]);
}
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

/** A source host with bus lan0 (1 MiB) and a vdisk 'disk' of `capacity` bytes; `prepare` runs before the link (a state to load). */
function sourceWithDisk(capacity: number, prepare?: (d: Parameters<typeof loadDeviceState>[0]) => void) {
  const src = makeHost();
  const bus = src.createBus('lan0', { memoryBytes: 1 << 20 });
  const d = src.createDevice('disk');
  src.setType(d, 'vdisk');
  d.setAttr('capacity', String(capacity));
  prepare?.(d);
  src.link(bus, d);
  return src;
}
const hello = (over: Record<string, unknown> = {}) => json({
  magic: 'vbus-migrate', version: 2, buses: [{ name: 'lan0', memoryBytes: 1 << 20 }],
  devices: [{ name: 'disk', cls: 'vdisk', version: 1 }], members: [], images: [{ device: 'disk', field: 'contents', bytes: 65536 }], ...over,
});

/** A target host listening at `where`; failures are collected. */
async function target(where: MigrationAddress, opts: { timeoutMs?: number } = {}) {
  const host = makeHost();
  const failed: VbusError[] = [];
  const listener = await listenForMigration(host, where, { ...opts, onFailed: (e) => failed.push(e) });
  return { host, failed, listener };
}

/** Connects as a source, sends `frames` (waiting for ACCEPT after HELLO), resolves when the target closes. */
function source(path: string, frames: Buffer[]): Promise<number[]> {
  return new Promise((resolve) => {
    const got: number[] = [];
    const s: Socket = createConnection(path, () => { for (const f of frames) s.write(f); });
    s.on('data', (c) => { if (c.length >= 5) got.push(c[4]!); });
    s.on('error', () => undefined);
    s.on('close', () => resolve(got));
  });
}

async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) { if (Date.now() > end) throw new Error('condition not met in time'); await new Promise((r) => setTimeout(r, 10)); }
}

function empty(h: VbusHost) {
  expect(h.stats()).toMatchObject({ buses: 0, devices: 0, links: 0, members: 0 });
}

describe('migration stream: the target against a hostile source', () => {
  it('refuses an oversized frame, pages outside the images, a state that is not what HELLO said, and silence', async () => {
    const path = join(dir, 't.sock');
    const t = await target({ path }, { timeoutMs: 300 });

    const huge = Buffer.alloc(5);
    huge.writeUInt32LE(0xffffffff, 0);
    huge[4] = HELLO;
    await source(path, [huge]);
    await until(() => t.failed.length === 1);
    expect(t.failed[0]!.code).toBe('EPROTO');
    expect(t.failed[0]!.message).toMatch(/malformed migration frame/);

    const outside = Buffer.alloc(8 + 4096);
    outside.writeUInt32LE(0, 0);
    outside.writeUInt32LE(65536 - 2048, 4); // runs past the 64 KiB image
    expect(await source(path, [frame(HELLO, hello()), frame(PAGES, outside)])).toEqual([ACCEPT]);
    await until(() => t.failed.length === 2);
    expect(t.failed[1]!.message).toMatch(/PAGES frame for image 0 at 63488 \(\+4096\) lies outside/);

    const snap = encodeSnapshot({ version: SNAPSHOT_VERSION, buses: [{ name: 'lan9', memoryBytes: 1 << 20, nextId: 0, links: [], image: null, connector: null }], devices: [], members: [] });
    await source(path, [frame(HELLO, hello()), frame(STATE, Buffer.from(snap))]);
    await until(() => t.failed.length === 3);
    expect(t.failed[2]!.message).toMatch(/names other buses or devices than its HELLO/);

    await source(path, [frame(HELLO, hello())]); // then nothing: the target gives up
    await until(() => t.failed.length === 4);
    expect(t.failed[3]!.code).toBe('ETIMEDOUT');
    empty(t.host);
    await t.listener.close();
  });

  it('starts a parked worker for each guest a HELLO names and says PARKED once they wait; refuses a guest module that is no URL', async () => {
    const path = join(dir, 'park.sock');
    const t = await target({ path }, { timeoutMs: 20_000 });
    const idle = new URL('./fixtures/idle-guest.mjs', import.meta.url).href;
    // The source hangs up after PARKED: the migration fails, and nothing stays.
    const types = await new Promise<number[]>((resolve) => {
      const got: number[] = [];
      let buf = Buffer.alloc(0);
      const s = createConnection(path, () => s.write(frame(HELLO, hello({ members: [5, 6], guests: [{ id: 5, url: idle }, { id: 6, url: idle }] }))));
      s.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        while (buf.length >= 5 && buf.length >= 5 + buf.readUInt32LE(0)) {
          got.push(buf[4]!);
          if (buf[4] === ACCEPT) expect(JSON.parse(buf.subarray(5, 5 + buf.readUInt32LE(0)).toString())).toEqual({ version: 2, parks: true });
          buf = buf.subarray(5 + buf.readUInt32LE(0));
        }
        if (got.includes(PARKED)) s.destroy();
      });
      s.on('error', () => undefined);
      s.on('close', () => resolve(got));
    });
    expect(types).toEqual([ACCEPT, PARKED]);
    await until(() => t.failed.length === 1);
    expect(t.failed[0]!.code).toBe('ECONNRESET');
    empty(t.host);

    expect(await source(path, [frame(HELLO, hello({ members: [5], guests: [{ id: 5, url: 'not a url' }] }))])).toEqual([REFUSE]);
    await until(() => t.failed.length === 2);
    expect(t.failed[1]!.message).toMatch(/guest 5's module "not a url" is not a URL/);
    empty(t.host);
    await t.listener.close();
  });

  it('after all that, takes a good migration; over TCP too', async () => {
    for (const where of [{ path: join(dir, 'good.sock') }, { port: 0 }] as MigrationAddress[]) {
      const t = await target(where);
      const src = sourceWithDisk(65536);
      const r = await migrate(src, ['lan0'], t.listener.address);
      expect(r.buses).toEqual(['lan0']);
      expect(src.stats()).toMatchObject({ buses: 0, devices: 0 });
      expect(t.host.device('disk')!.attr('capacity')).toBe('65536');
      expect(t.failed).toEqual([]);
      await t.listener.close();
    }
  });

  it('a target whose workers park late: the source stops after its deadline and passes over the PARKED that comes later', async () => {
    const path = join(dir, 'late.sock');
    const server = createServer((sock) => {
      let buf = Buffer.alloc(0);
      sock.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        while (buf.length >= 5 && buf.length >= 5 + buf.readUInt32LE(0)) {
          const type = buf[4]!;
          buf = buf.subarray(5 + buf.readUInt32LE(0));
          if (type === HELLO) sock.write(frame(ACCEPT, json({ version: 2, parks: true }))); // then no PARKED until the state
          if (type === STATE) { sock.write(frame(PARKED, json({}))); sock.write(frame(READY, json({}))); }
          if (type === GO) sock.write(frame(RESUMED, json({ notJoined: [] })));
        }
      });
      sock.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(path, () => r()));
    try {
      const src = sourceWithDisk(65536);
      const r = await migrate(src, ['lan0'], { path }, { replyTimeoutMs: 300 });
      expect(r.buses).toEqual(['lan0']);
      expect(r.notJoined).toEqual([]);
      expect(src.stats()).toMatchObject({ buses: 0, devices: 0 }); // handed over
    } finally {
      server.close();
    }
  });

  it('a target that stops reading: the source gives up within its deadline and its bus stays', async () => {
    const path = join(dir, 'stalled.sock');
    const server = createServer((sock) => {
      sock.once('data', () => { sock.write(frame(ACCEPT, json({ version: 2 }))); sock.pause(); }); // then reads nothing more
      sock.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(path, () => r()));
    try {
      const src = sourceWithDisk(16 << 20, (d) => {
        const blank = saveDeviceState(d);
        loadDeviceState(d, { ...blank, data: { ...(blank.data as object), contents: new Uint8Array(16 << 20).fill(7) } });
      });
      const t0 = Date.now();
      await expect(migrate(src, ['lan0'], { path }, { replyTimeoutMs: 500 })).rejects.toThrow(/ETIMEDOUT: .* took nothing from the migration stream for 500 ms/);
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(src.bus('lan0')!.devices().map((x) => x.device.name)).toEqual(['disk']); // nothing stopped or left
    } finally {
      server.close();
    }
  });
});

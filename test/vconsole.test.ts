// vconsole through its guest driver in real workers: the memory endpoint through the
// typed host API, a real FIFO pair with `cat` processes on the far side, and a
// loopback TCP socket. Bytes arrive byte-exact and in order both ways, with enough
// volume that both directions stall on full rings and resume (flow control).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TRANSPORTS, type Transport } from './helpers/transports.js';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as net from 'node:net';
import { VbusHost, vconsoleClass, ConsoleModel, type Device, type Bus } from '../dist/src/index.js';
import { drive } from './helpers/scripted.js';
import { Prng } from './fixtures/prng.mjs';

const GUEST_URL = new URL('./fixtures/guest-devices.mjs', import.meta.url);
const MiB = 1 << 20;

let host: VbusHost | undefined;
/** The transport of the suite running now (setup() makes its bus on it; the OS-endpoint suites use shared). */
let transport: Transport = 'shared';
const cleanups: Array<() => void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) { try { c(); } catch { /* best effort */ } }
  if (host) { await host.connector.release(); host.release(); host = undefined; }
});

function stream(seed: number, bytes: number): Uint8Array {
  const b = new Uint8Array(bytes);
  new Prng(seed).fill(b, 0, bytes);
  return b;
}

/** Index of the first byte where `got` differs from `want` (or -1 when equal). */
function firstDiff(got: Uint8Array, want: Uint8Array): number {
  const n = Math.min(got.length, want.length);
  for (let i = 0; i < n; i++) if (got[i] !== want[i]) return i;
  return got.length === want.length ? -1 : n;
}

function setup(endpoint?: string): { host: VbusHost; bus: Bus; dev: Device; model: ConsoleModel } {
  host = new VbusHost({ transport });
  host.registerClass(vconsoleClass);
  const bus = host.createBus('con', { memoryBytes: 4 * MiB });
  const dev = host.createDevice('console0');
  host.setType(dev, 'vconsole');
  if (endpoint) dev.setAttr('endpoint', endpoint);
  host.link(bus, dev);
  return { host, bus, dev, model: dev.model as ConsoleModel };
}

async function guestWithConsole(h: VbusHost, bus: Bus, rings: { outputRing?: number; inputRing?: number } = {}) {
  const g = drive(h.spawnGuest(bus, GUEST_URL));
  const ready = await g.waitEvent((e) => e.event === 'ready');
  expect(ready.devices).toEqual([{ id: 0, type: 'virtual-console' }]);
  const r = await g.cmd('consoleOpen', { dev: 0, ...rings });
  expect(r.ok).toBe(true);
  return g;
}

/** Collects from a stream until `bytes` arrived. */
function collect(src: NodeJS.ReadableStream, bytes: number): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  let n = 0;
  return new Promise((resolve, reject) => {
    src.on('data', (c: Buffer) => {
      parts.push(c);
      n += c.length;
      if (n >= bytes) resolve(new Uint8Array(Buffer.concat(parts)));
    });
    src.on('error', reject);
  });
}

describe.each(TRANSPORTS)('vconsole on the %s transport', (t) => {
  beforeEach(() => { transport = t; });
  afterEach(() => { transport = 'shared'; });

  describe('vconsole: memory endpoint through the typed host API', () => {
    it('moves 3 MiB out and 1 MiB in byte-exact, stalling on full rings and a full host buffer', async () => {
      const { host, bus, dev, model } = setup();
      // small rings: every direction fills up many times
      const g = await guestWithConsole(host, bus, { outputRing: 4096, inputRing: 4096 });

      // guest -> host: read with hostRead() only now and then, so the 1 MiB host buffer fills
      const outBytes = 3 * MiB;
      const wrote = g.cmd('write', { seed: 11, bytes: outBytes, chunkMax: 3000, mode: 'async' });
      const got: Uint8Array[] = [];
      let n = 0;
      while (n < outBytes) {
        await new Promise((r) => setTimeout(r, 20));
        const c = model.hostRead();
        got.push(c);
        n += c.length;
      }
      expect((await wrote).ok).toBe(true);
      expect(firstDiff(new Uint8Array(Buffer.concat(got)), stream(11, outBytes))).toBe(-1);

      // host -> guest: many hostWrite calls queued at once; the guest reads with the async iterator
      const inBytes = MiB;
      const data = stream(12, inBytes);
      const reading = g.cmd('read', { seed: 12, bytes: inBytes, mode: 'iter' });
      const writes: Promise<void>[] = [];
      for (let at = 0; at < inBytes; at += 10_000) writes.push(model.hostWrite(data.subarray(at, Math.min(inBytes, at + 10_000))));
      await Promise.all(writes);
      expect(await reading).toMatchObject({ ok: true, got: inBytes, firstBad: -1 });

      expect(dev.attr('tx_bytes')).toBe(String(outBytes));
      expect(dev.attr('rx_bytes')).toBe(String(inBytes));
      expect(dev.attr('drops')).toBe('0');
      expect(dev.attr('state')).toBe('open');
    });

    it('writeSync and the WHATWG streams carry the same bytes; onOutput delivers as it arrives', async () => {
      const { host, bus, model } = setup();
      const g = await guestWithConsole(host, bus, { outputRing: 8192, inputRing: 8192 });
      const parts: Uint8Array[] = [];
      let n = 0;
      const all = new Promise<void>((resolve) => {
        model.onOutput((c) => { parts.push(c.slice()); n += c.length; if (n >= 2 * 300_000) resolve(); });
      });
      expect((await g.cmd('write', { seed: 21, bytes: 300_000, chunkMax: 9000, mode: 'sync' })).ok).toBe(true);
      expect((await g.cmd('write', { seed: 22, bytes: 300_000, chunkMax: 700, mode: 'writable' })).ok).toBe(true);
      await all;
      const out = new Uint8Array(Buffer.concat(parts));
      expect(firstDiff(out.subarray(0, 300_000), stream(21, 300_000))).toBe(-1);
      expect(firstDiff(out.subarray(300_000), stream(22, 300_000))).toBe(-1);

      const reading = g.cmd('read', { seed: 23, bytes: 200_000, mode: 'readable' });
      await model.hostWrite(stream(23, 200_000));
      expect(await reading).toMatchObject({ ok: true, got: 200_000, firstBad: -1 });
    });

    it('end of host input reaches the guest as end of stream, after the bytes before it', async () => {
      const { host, bus, model } = setup();
      const g = await guestWithConsole(host, bus);
      const reading = g.cmd('readToEnd');
      await model.hostWrite('login: ');
      await model.hostWrite(new TextEncoder().encode('root\n'));
      model.hostEnd();
      expect(await reading).toMatchObject({ ok: true, text: 'login: root\n', ended: true });
    });

    it('input written before any guest connects waits for it (nothing lost)', async () => {
      const { host, bus, model } = setup();
      const early = model.hostWrite('early bytes|');
      const g = await guestWithConsole(host, bus);
      await early;
      const reading = g.cmd('readToEnd');
      await model.hostWrite('late bytes');
      model.hostEnd();
      expect((await reading).text).toBe('early bytes|late bytes');
    });

    it('one reader at a time: a second open gets EBUSY; after close another guest can open it', async () => {
      const { host, bus, model } = setup();
      const g1 = await guestWithConsole(host, bus);
      const g2 = drive(host.spawnGuest(bus, GUEST_URL));
      await g2.waitEvent((e) => e.event === 'ready');
      expect(await g2.cmd('consoleOpen', { dev: 0 })).toMatchObject({ ok: false, error: 'EBUSY' });
      // write, then close at once: the bytes still reach the endpoint
      await g1.cmd('writeText', { text: 'last words' });
      await g1.cmd('consoleClose');
      expect(new TextDecoder().decode(model.hostRead())).toBe('last words');
      expect(await g1.cmd('writeText', { text: 'too late' })).toMatchObject({ ok: false, error: 'EBADF' });
      expect(await g2.cmd('consoleOpen', { dev: 0 })).toMatchObject({ ok: true });
    });

    it('refuses bad endpoint values with the value unchanged; memory-only calls name the endpoint', () => {
      const { dev, model } = setup();
      expect(() => dev.setAttr('endpoint', 'bogus:1')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
      expect(() => dev.setAttr('endpoint', 'tcp:127.0.0.1:99999')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
      expect(() => dev.setAttr('endpoint', 'pty:/nonexistent-dir-vbus/tty')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
      expect(() => dev.setAttr('endpoint', 'pty:/tmp/a,b')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
      expect(() => dev.setAttr('endpoint', 'pipe:/nonexistent-dir-vbus/x')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
      expect(() => dev.setAttr('rx_bytes', '5')).toThrow(expect.objectContaining({ code: 'EACCES' }));
      expect(dev.attr('endpoint')).toBe('memory');
      expect(model.endpoint).toBe('memory');
      const dir = mkdtempSync(join(tmpdir(), 'vcon-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      dev.setAttr('endpoint', `pipe:${dir}/log`);
      expect(() => model.hostRead()).toThrow(expect.objectContaining({ code: 'ENOTSUP', message: expect.stringContaining(`pipe:${dir}/log`) }));
    });
  });

  describe('vconsole: a hostile guest', () => {
    it('bad tags and empty records are counted as drops; a scribbled ring faults that device only, never the host', async () => {
      const { host, bus, dev, model } = setup();
      const g = drive(host.spawnGuest(bus, GUEST_URL));
      await g.waitEvent((e) => e.event === 'ready');
      expect(await g.cmd('rawConsole', { dev: 0, records: [[7, 'evil'], [0, ''], [0, 'ok'], [1, 'eof-is-input-only'], [0, '!']] })).toMatchObject({ ok: true });
      await expect.poll(() => new TextDecoder().decode(model.hostRead()), { timeout: 10_000 }).toBe('ok!');
      expect(dev.attr('drops')).toBe('3');
      expect(dev.attr('tx_bytes')).toBe('3');
      expect(await g.cmd('scribble')).toMatchObject({ ok: true });
      await expect.poll(() => dev.attr('state'), { timeout: 10_000 }).toMatch(/^error: output ring fault/);
      expect(dev.attr('drops')).toBe('4');
      // the host and the rest of the console still work: input is still accepted
      await model.hostWrite('still here');
      expect(model.pendingInput).toBe(0);
    });
  });
});

describe('vconsole: real pipes', () => {
  it('a FIFO pair with cat on the far side: 1 MiB each way, byte-exact and in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vcon-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const base = join(dir, 'con');
    execFileSync('mkfifo', [`${base}.in`, `${base}.out`]);
    const { host, bus, dev } = setup(`pipe:${base}`);
    expect(dev.attr('state')).toBe('open');

    const reader: ChildProcess = spawn('cat', [`${base}.out`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const writer: ChildProcess = spawn('sh', ['-c', `exec cat > '${base}.in'`], { stdio: ['pipe', 'ignore', 'inherit'] });
    cleanups.push(() => { reader.kill(); writer.kill(); });

    const g = await guestWithConsole(host, bus, { outputRing: 16384, inputRing: 16384 });
    const bytes = MiB;
    const fromGuest = collect(reader.stdout!, bytes);
    const reading = g.cmd('read', { seed: 32, bytes, mode: 'readable' });
    const writing = g.cmd('write', { seed: 31, bytes, chunkMax: 5000, mode: 'async' });
    writer.stdin!.end(Buffer.from(stream(32, bytes)));

    expect(await writing).toMatchObject({ ok: true });
    const out = await fromGuest;
    expect(out.length).toBe(bytes);
    expect(firstDiff(out, stream(31, bytes))).toBe(-1);
    expect(await reading).toMatchObject({ ok: true, got: bytes, firstBad: -1 });
    expect(dev.attr('tx_bytes')).toBe(String(bytes));
    expect(dev.attr('rx_bytes')).toBe(String(bytes));
  });
});

describe('vconsole: a pseudo-terminal', () => {
  it('a raw pty made by socat: bytes written to its slave reach the guest, the guest\'s output is read from it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vcon-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const link = join(dir, 'tty');
    const { host, bus, dev } = setup(`pty:${link}`);
    expect(dev.attr('endpoint')).toBe(`pty:${link}`);
    await expect.poll(() => existsSync(link), { timeout: 10_000 }).toBe(true);
    const reader: ChildProcess = spawn('cat', [link], { stdio: ['ignore', 'pipe', 'inherit'] });
    const writer: ChildProcess = spawn('sh', ['-c', `exec cat > '${link}'`], { stdio: ['pipe', 'ignore', 'inherit'] });
    cleanups.push(() => { reader.kill(); writer.kill(); });

    const g = await guestWithConsole(host, bus, { outputRing: 8192, inputRing: 8192 });
    const bytes = 256 * 1024;
    const fromGuest = collect(reader.stdout!, bytes);
    const reading = g.cmd('read', { seed: 62, bytes, mode: 'iter' });
    writer.stdin!.write(Buffer.from(stream(62, bytes)));
    expect(await reading).toMatchObject({ ok: true, got: bytes, firstBad: -1 });
    expect(await g.cmd('write', { seed: 61, bytes, chunkMax: 3000, mode: 'async' })).toMatchObject({ ok: true });
    const out = await fromGuest;
    expect(firstDiff(out.subarray(0, bytes), stream(61, bytes))).toBe(-1);
    expect(dev.attr('state')).toBe('open');
  });

  it('bare pty picks a link in the temporary directory and stores it in the attribute', () => {
    const { dev } = setup();
    dev.setAttr('endpoint', 'pty');
    expect(dev.attr('endpoint')).toMatch(new RegExp(`^pty:${tmpdir()}/vbus-pty-\\d+-\\d+$`));
    dev.setAttr('endpoint', 'memory'); // closes the pty (socat ends)
  });
});

describe('vconsole: stdio of a real process', () => {
  it('a host process with endpoint stdio: what we write to its stdin the guest echoes to its stdout', async () => {
    const child = spawn(process.execPath, [new URL('./fixtures/vconsole-stdio-host.mjs', import.meta.url).pathname, String(200_000)], { stdio: ['pipe', 'pipe', 'inherit'] });
    cleanups.push(() => child.kill());
    const data = stream(51, 200_000);
    const back = collect(child.stdout!, data.length);
    child.stdin!.write(Buffer.from(data));
    const got = await back;
    expect(got.length).toBe(data.length);
    expect(firstDiff(got, data)).toBe(-1);
    child.stdin!.end();
    expect(await new Promise((r) => child.on('exit', r))).toBe(0);
  });
});

describe('vconsole: loopback TCP', () => {
  it('a peer sends 1 MiB, the guest echoes it, the peer gets it back byte-exact; the peer closing ends the guest\'s stream', async () => {
    const bytes = MiB;
    const data = stream(41, bytes);
    let resolveBack!: (b: Uint8Array) => void;
    const back = new Promise<Uint8Array>((r) => { resolveBack = r; });
    const server = net.createServer((sock) => {
      server.close(); // one peer
      void collect(sock, bytes).then((b) => { sock.end('bye'); resolveBack(b); });
      sock.write(Buffer.from(data));
    });
    cleanups.push(() => server.close());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as net.AddressInfo;

    const { host, bus, dev } = setup(`tcp:127.0.0.1:${port}`);
    const g = await guestWithConsole(host, bus, { outputRing: 8192, inputRing: 8192 });
    expect(await g.cmd('echo', { bytes })).toMatchObject({ ok: true, echoed: bytes });
    const got = await back;
    expect(got.length).toBe(bytes);
    expect(firstDiff(got, data)).toBe(-1);
    expect(await g.cmd('readToEnd')).toMatchObject({ ok: true, text: 'bye', ended: true });
    expect(dev.attr('tx_bytes')).toBe(String(bytes));
    expect(dev.attr('rx_bytes')).toBe(String(bytes + 3));
    expect(dev.attr('drops')).toBe('0');
  });

  it('a refused connection shows in state; the guest\'s writes are discarded and counted, not hung', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((r) => server.close(() => r())); // nobody listens on port now
    const { host, bus, dev } = setup(`tcp:127.0.0.1:${port}`);
    const g = await guestWithConsole(host, bus);
    await expect.poll(() => dev.attr('state'), { timeout: 10_000 }).toMatch(/^error: .*ECONNREFUSED/);
    expect(await g.cmd('write', { seed: 5, bytes: 200_000, chunkMax: 4000, mode: 'async' })).toMatchObject({ ok: true });
    await expect.poll(() => Number(dev.attr('drops')), { timeout: 10_000 }).toBeGreaterThan(0);
  });
});

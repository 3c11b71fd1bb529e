// Live migration between two processes under traffic: a source runtime (child process)
// streams frames across a switch between two buses, keeps 32 vdisk writes in flight and
// writes console lines; migrate() moves both buses (the switch spans them) to a target
// runtime (another child process). Failures first, each leaving the source running: a
// target of another stream version, a target that refuses (a bus of that name exists),
// a stream that drops at the stop. Then the real migration: sequence numbers show
// nothing lost, duplicated or reordered beyond the switch's counted drops, every
// acknowledged write and the disk's image are on the target, features are kept with no
// renegotiation; the switch's external port reconnects from the target and its peer's
// frames reach the migrated receiver. The downtime (until the target's guests serve
// again) and its phases are printed, not asserted.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'vbus-mig-'));
const children: ChildProcess[] = [];
const servers: Server[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A child process that speaks JSON lines on stdout; next() is its next line. */
function child(fixture: string, args: string[] = []) {
  const p = spawn(process.execPath, [join(root, 'test/fixtures', fixture), ...args], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(p);
  const lines: Array<Record<string, any>> = [];
  const waiting: Array<(m: Record<string, any>) => void> = [];
  createInterface({ input: p.stdout! }).on('line', (l) => {
    const m = JSON.parse(l);
    const w = waiting.shift();
    if (w) w(m); else lines.push(m);
  });
  const next = (ms = 60_000): Promise<Record<string, any>> => {
    const m = lines.shift();
    if (m) return Promise.resolve(m);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${fixture} said nothing in ${ms} ms`)), ms);
      waiting.push((x) => { clearTimeout(t); resolve(x); });
    });
  };
  const ask = async (cmd: string, args: Record<string, unknown> = {}): Promise<Record<string, any>> => {
    p.stdin!.write(JSON.stringify({ cmd, ...args }) + '\n');
    const r = await next();
    if (!r.ok) throw new Error(`${cmd}: ${r.code} ${r.message}`);
    return r;
  };
  return { p, next, ask };
}

/** A frame as the stream's documented layout has it: u32 LE body length, u8 type, body. */
function wireFrame(type: number, json: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(json));
  const head = Buffer.alloc(5);
  head.writeUInt32LE(body.length, 0);
  head[4] = type;
  return Buffer.concat([head, body]);
}

/** Splits incoming bytes into frames. */
function frames(onFrame: (type: number, body: Buffer) => void): (chunk: Buffer) => void {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 5 && buf.length >= 5 + buf.readUInt32LE(0)) {
      const len = buf.readUInt32LE(0);
      onFrame(buf[4]!, buf.subarray(5, 5 + len));
      buf = buf.subarray(5 + len);
    }
  };
}

const HELLO = 1, ACCEPT = 2, REFUSE = 3, PAGES = 4, STATE = 5;

/** A fake target: answers HELLO with ACCEPT of `version`; with `dropAtState`, closes the stream when STATE arrives. */
function fakeTarget(path: string, version: number, dropAtState: boolean): Promise<{ seen: { pagesBytes: number; state: boolean } }> {
  const seen = { pagesBytes: 0, state: false };
  const server = createServer((s) => {
    s.on('data', frames((type, body) => {
      if (type === HELLO) s.write(wireFrame(ACCEPT, { version }));
      if (type === PAGES) seen.pagesBytes += body.length - 8;
      if (type === STATE) { seen.state = true; if (dropAtState) s.destroy(); }
    }));
    s.on('error', () => undefined);
  });
  servers.push(server);
  return new Promise((r) => server.listen(path, () => r({ seen })));
}

/**
 * The peer of the switch's external port (stream-unix: each frame after a 4-byte
 * big-endian length). It counts the connections the switch made and, when told, sends
 * frames to a MAC on the latest one, each tagged with that connection's number. It
 * counts the sender's frames the switch flooded out to it (there should be none).
 */
function externalPeer(path: string) {
  const conns: Socket[] = [];
  const got = { fromSender: 0 };
  const server = createServer((s) => {
    conns.push(s);
    s.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
        const f = buf.subarray(4, 4 + buf.readUInt32BE(0));
        if (f.length >= 14 && f.readUInt16BE(12) === 0x88b5) got.fromSender++;
        buf = buf.subarray(4 + f.length);
      }
    });
  });
  servers.push(server);
  const send = (n: number, mac: string) => {
    const s = conns[conns.length - 1]!;
    for (let i = 0; i < n; i++) {
      const f = Buffer.alloc(64);
      Buffer.from(mac.split(':').map((h) => parseInt(h, 16))).copy(f, 0);
      Buffer.from([2, 0xee, 0, 0, 0, 1]).copy(f, 6);
      f.writeUInt16BE(0x88b6, 12);
      f.writeUInt32LE(conns.length, 14);
      const len = Buffer.alloc(4);
      len.writeUInt32BE(f.length, 0);
      s.write(Buffer.concat([len, f]));
    }
  };
  return new Promise<{ conns: typeof conns; send: typeof send; got: typeof got }>((r) => server.listen(path, () => r({ conns, send, got })));
}

async function until(pred: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) { if (Date.now() > end) throw new Error('condition not met in time'); await new Promise((r) => setTimeout(r, 20)); }
}

function lines(text: string): number[] {
  return text.split('\n').filter((l) => l !== '').map((l) => Number(/^line (\d+)$/.exec(l)?.[1] ?? NaN));
}

async function runsOn(src: ReturnType<typeof child>): Promise<void> {
  const a = await src.ask('peek');
  await new Promise((r) => setTimeout(r, 200));
  const b = await src.ask('peek');
  expect(b.buses).toEqual(['lan0', 'lan1']);
  expect(b.seq).toBeGreaterThan(a.seq); // frames keep flowing
  expect(b.line).toBeGreaterThan(a.line); // and console lines
}

describe('live migration between two runtimes', () => {
  it('fails cleanly (version, refusal, dropped stream) with the source running on, then moves both buses under traffic', async () => {
    const peer = await externalPeer(join(dir, 'ext.sock'));
    const src = child('migrate-source.mjs', [join(dir, 'ext.sock')]);
    const { mac } = await src.ask('start');
    await until(() => peer.conns.length === 1); // the switch's external port connected
    peer.send(10, mac); // frames from outside reach the receiver across the external port
    await new Promise((r) => setTimeout(r, 300));

    // A target of another stream version: nothing stopped, the bus runs on.
    const vpath = join(dir, 'v2.sock');
    await fakeTarget(vpath, 3, false);
    const v = await src.ask('migrate', { to: { path: vpath } });
    expect(v.failed.code).toBe('ENOTSUP');
    expect(v.failed.message).toMatch(/speaks migration stream version 3; this runtime speaks version 2/);
    await runsOn(src);

    // A target that refuses: it has a bus lan0 already.
    const opath = join(dir, 'occupied.sock');
    const occupied = child('migrate-target.mjs', [opath, 'occupied']);
    expect((await occupied.next()).event).toBe('listening');
    const o = await src.ask('migrate', { to: { path: opath } });
    expect(o.failed.code).toBe('EEXIST');
    expect(o.failed.message).toMatch(/refused: migration from .*: bus lan0 already exists here/);
    expect((await occupied.next()).code).toBe('EEXIST'); // the target reports what it refused
    occupied.p.kill();
    await runsOn(src);

    // A stream that drops at the stop: the guests had quiesced and saved, and continue.
    const dpath = join(dir, 'drop.sock');
    const drop = await fakeTarget(dpath, 2, true);
    const d = await src.ask('migrate', { to: { path: dpath } });
    expect(drop.seen.state).toBe(true); // it got as far as the stop
    expect(drop.seen.pagesBytes).toBeGreaterThanOrEqual(16 << 20); // the whole patterned image was pre-copied
    expect(d.failed.code).toBe('ECONNRESET');
    expect(d.buses).toEqual(['lan0', 'lan1']);
    await runsOn(src);

    // The real target; first it refuses a source of another stream version.
    const tpath = join(dir, 'target.sock');
    const tgt = child('migrate-target.mjs', [tpath]);
    expect((await tgt.next()).event).toBe('listening');
    const refusal = await new Promise<Record<string, any>>((resolve) => {
      const s = createConnection(tpath, () => s.write(wireFrame(HELLO, { magic: 'vbus-migrate', version: 99, buses: [], devices: [], members: [], images: [] })));
      s.on('data', frames((type, body) => { s.destroy(); resolve({ type, ...JSON.parse(body.toString()) }); }));
    });
    expect(refusal).toMatchObject({ type: REFUSE, code: 'ENOTSUP' });
    expect(refusal.message).toMatch(/source speaks migration stream version 99; this runtime speaks version 2/);
    expect((await tgt.next()).code).toBe('ENOTSUP');

    const m = await src.ask('migrate', { to: { path: tpath } });
    expect(m.failed).toBeUndefined();
    const res = m.result;
    const ph = Object.entries(res.phases as Record<string, number>).map(([k, v]) => `${k.replace(/Ms$/, '')} ${v.toFixed(1)}`).join(', ');
    console.log(`live migration of 2 buses x 16 MiB with a 16 MiB memory disk: downtime ${res.downtimeMs.toFixed(1)} ms `
      + `(${ph}); ${res.rounds} pre-copy rounds, ${(res.precopyBytes / 2 ** 20).toFixed(1)} MiB while running, `
      + `${(res.stopBytes / 1024).toFixed(0)} KiB + ${(res.stateBytes / 1024).toFixed(0)} KiB state at the stop; total ${res.totalMs.toFixed(0)} ms`);
    expect(res.notJoined).toEqual([]); // the downtime ended with every guest serving on the target
    expect(res.rounds).toBeGreaterThanOrEqual(1);
    expect(res.precopyBytes).toBeGreaterThanOrEqual(16 << 20);
    expect(res.stopBytes).toBeLessThan(16 << 20); // the stop sent only what changed since
    expect((await src.ask('peek')).buses).toEqual([]); // the source released the buses
    const before = (await src.ask('output')).text as string;
    src.p.stdin!.end();

    expect((await tgt.next()).event).toBe('running');
    await until(() => peer.conns.length === 2); // the external port reconnected, from the target
    peer.send(10, mac);
    await new Promise((r) => setTimeout(r, 200));
    tgt.p.stdin!.write('finish\n');
    const r = await tgt.next();
    expect(r.event).toBe('done');
    console.log(`the migrated guests had reopened their devices and run again ${(r.readyAt - res.stoppedAt).toFixed(0)} ms after the stop (worker start-up included)`);
    expect(r.buses).toEqual(['lan0', 'lan1']);
    // The sender resumed from its state, kept its features and never negotiated again.
    expect(r.sender).toMatchObject({ resumed: true, negotiations: 0, features: 3 });
    // Both took their connections back: no call to open a device again, the same handles.
    expect(r.sender.openCalls).toBe(0);
    expect(r.receiver.openCalls).toBe(0);
    expect(r.sender.netHandle).toBe(r.sender.state.netHandle);
    expect(r.receiver.netHandle).toBe(r.receiver.state.netHandle);
    expect(r.switch.negotiated).toBe('csum,tx_done');
    // Frames: in order, none twice, each either received or dropped by the switch (counted);
    // none flooded out of the external port (the switch kept the receiver's MAC).
    expect(r.receiver.state.dups).toBe(0);
    expect(r.receiver.state.last).toBe(r.sender.state.seq - 1);
    expect(r.receiver.state.count + r.switch.drops).toBe(r.sender.state.seq);
    expect(r.receiver.state.lost).toBe(r.switch.drops);
    expect(peer.got.fromSender).toBe(0);
    // Disk: every acknowledged write is there, and the image past the written blocks arrived whole.
    expect(Object.keys(r.sender.state.acked).length).toBe(256);
    for (const [blk, tag] of Object.entries(r.sender.state.acked as Record<string, number>)) expect(r.diskTags[blk], `block ${blk}`).toBe(tag);
    expect(r.imageMismatches).toEqual([]);
    // The external port: its peer's frames before and after the move reached the receiver.
    expect(r.receiver.state).toMatchObject({ other: 20, otherTag: 2 });
    // Console: the lines go on where they stopped, none lost or repeated.
    expect(lines(before + r.console)).toEqual(Array.from({ length: r.sender.state.line }, (_, i) => i));
  }, 180_000);
});

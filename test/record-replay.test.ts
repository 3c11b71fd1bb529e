// Record and replay: a device's side of real traffic from real guests is recorded, and
// a fresh device of the same class replays it alone (no guest, no endpoint) to the same
// return values, replies, ring bytes, signals, events and final counters; twice the same.
// A damaged recording is refused; a recorded hostile write replays to the same fault.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  recordDevice, replayRecording, encodeRecording, decodeRecording, encodeDeviceState, SHIPPED_CLASSES, venetTap,
  type ConsoleModel, type VbusHost, type Device, type Recording,
} from '../dist/src/index.js';
import { ok, stateGuest, useHosts } from './helpers/state-host.js';
import { udpEnd, udpPort } from './helpers/tap-scenarios.js';
import { eventually } from './helpers/venet.js';
import type { Scripted } from './helpers/scripted.js';

const makeHost = useHosts();

/** Records `type` on a fresh bus while `traffic` runs guests against it; returns the decoded file. */
async function recordRun(type: string, attrs: Record<string, string>, traffic: (h: VbusHost, g: Scripted, id: number, dev: Device) => Promise<void>): Promise<{ rec: Recording; dev: Device }> {
  const h = makeHost();
  const bus = h.createBus('lan0', { memoryBytes: 8 << 20 });
  const dev = h.createDevice('d0');
  h.setType(dev, type);
  for (const [k, v] of Object.entries(attrs)) dev.setAttr(k, v);
  const recorder = recordDevice(dev, { maxBytes: 32 << 20 });
  const id = h.link(bus, dev);
  const g = await stateGuest(h, bus);
  await traffic(h, g, id, dev);
  h.unlink(bus, dev); // closes the guest's connections: recorded too
  const rec = recorder.stop();
  expect(rec.truncated).toBe(false);
  expect(rec.steps.length).toBeGreaterThan(3);
  return { rec: decodeRecording(encodeRecording(rec), `${type}.rec`), dev };
}

function replayTwice(rec: Recording) {
  const a = replayRecording(rec, { classes: SHIPPED_CLASSES });
  expect(a.mismatches).toEqual([]);
  expect(a.ok).toBe(true);
  expect(a.steps).toBe(rec.steps.length);
  const b = replayRecording(rec, { classes: SHIPPED_CLASSES });
  expect(b.mismatches).toEqual(a.mismatches);
  expect(Buffer.from(encodeDeviceState(b.final)).equals(Buffer.from(encodeDeviceState(a.final)))).toBe(true);
  return a;
}

describe('record and replay, per shipped class', () => {
  it('venet-loopback: frames out and back', async () => {
    const { rec, dev } = await recordRun('venet-loopback', {}, async (_h, g, id) => {
      const n = await ok(g, 'openNet', { dev: id });
      await ok(g, 'negotiate', { dev: id, features: 2 });
      await ok(g, 'sendFrames', { dev: id, dst: n.mac, from: 0, count: 300, len: 200 });
      expect((await ok(g, 'frames', { dev: id, atLeast: 300 })).seqs).toEqual(Array.from({ length: 300 }, (_, i) => i));
    });
    const r = replayTwice(rec);
    expect((r.final.data as any).counters.rx_frames).toBe(300);
    expect(dev.attr('rx_frames')).toBe('300');
  });

  it('venet-switch: flooding and learning between two guests on one bus', async () => {
    const { rec } = await recordRun('venet-switch', {}, async (h, g, id) => {
      const g2 = await stateGuest(h, h.bus('lan0')!);
      const a = await ok(g, 'openNet', { dev: id });
      const b = await ok(g2, 'openNet', { dev: id });
      await ok(g, 'sendFrames', { dev: id, dst: b.mac, from: 0, count: 50 });
      expect((await ok(g2, 'frames', { dev: id, atLeast: 50 })).seqs.length).toBe(50);
      await ok(g2, 'sendFrames', { dev: id, dst: a.mac, from: 100, count: 50 });
      expect((await ok(g, 'frames', { dev: id, atLeast: 50 })).seqs.length).toBe(50);
    });
    const r = replayTwice(rec);
    expect((r.final.data as any).counters.tx_frames).toBe(100);
  });

  it('vdisk: writes with 32 in flight, then reads', async () => {
    const { rec } = await recordRun('vdisk', { capacity: '1048576' }, async (_h, g, id) => {
      await ok(g, 'openDisk', { dev: id });
      await ok(g, 'writeBlocks', { dev: id, len: 4096, blocks: Array.from({ length: 64 }, (_, i) => i), tag: 0x5000 });
      expect((await ok(g, 'readTags', { dev: id, len: 4096, blocks: [0, 31, 63] })).tags).toEqual([0x5000, 0x501f, 0x503f]);
    });
    const r = replayTwice(rec);
    expect((r.final.data as any).counters.writes).toBe(64);
    expect(new DataView((r.final.data as any).contents.buffer).getUint32(31 * 4096, true)).toBe(0x501f);
  });

  it('vdisk backed by a file: replays against a copy of the file as it was when recording started', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vbus-rec-file-'));
    try {
      const file = join(dir, 'disk.img');
      const img = Buffer.alloc(1 << 20);
      for (let i = 0; i < img.length / 4; i++) img.writeUInt32LE((i ^ 0x00abc000) >>> 0, i * 4);
      writeFileSync(file, img);
      copyFileSync(file, join(dir, 'as-recorded.img'));
      const word = (blk: number) => ((blk * 1024) ^ 0x00abc000) >>> 0; // the image's first word of a 4 KiB block
      const { rec } = await recordRun('vdisk', { src_path: file, capacity: String(1 << 20) }, async (_h, g, id) => {
        await ok(g, 'openDisk', { dev: id });
        expect((await ok(g, 'readTags', { dev: id, len: 4096, blocks: [0, 100, 200] })).tags).toEqual([word(0), word(100), word(200)]);
        await ok(g, 'writeBlocks', { dev: id, len: 4096, blocks: Array.from({ length: 32 }, (_, i) => i), tag: 0x7000 });
        expect((await ok(g, 'readTags', { dev: id, len: 4096, blocks: [0, 31, 100] })).tags).toEqual([0x7000, 0x701f, word(100)]);
      });
      expect(rec.initial.attrs['src_path']).toBe(file);
      // Against copies of the file as it was: the same replies, ring bytes and counters, twice.
      for (const n of [1, 2]) {
        const copy = join(dir, `replay${n}.img`);
        copyFileSync(join(dir, 'as-recorded.img'), copy);
        const r = replayRecording(rec, { classes: SHIPPED_CLASSES, files: { [file]: copy } });
        expect(r.mismatches).toEqual([]);
        expect(r.ok).toBe(true);
        expect(r.final.attrs['src_path']).toBe(file); // named as recorded
        expect((r.final.data as any).counters.writes).toBe(32);
        expect(readFileSync(copy).readUInt32LE(31 * 4096)).toBe(0x701f); // the replay wrote into its copy
      }
      // Against the file as the run left it, the first read (block 0) already differs.
      const after = join(dir, 'after.img');
      copyFileSync(file, after);
      const bad = replayRecording(rec, { classes: SHIPPED_CLASSES, files: { [file]: after }, stopAtFirst: true });
      expect(bad.ok).toBe(false);
      expect(bad.mismatches[0]!.what).toMatch(/bytes written/); // the read reply the device put in the ring
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('venet-tap: its socket side is recorded as inputs; the replay needs no socket', async () => {
    const peer = await udpEnd();
    try {
      const { rec } = await recordRun('venet-tap', { ifname: `udp:127.0.0.1:0,peer=127.0.0.1:${peer.port}` }, async (_h, g, id, dev) => {
        dev.setAttr('enabled', '1'); // the socket opens inside the recording
        const port = udpPort(await venetTap(dev).whenOpen());
        const n = await ok(g, 'openNet', { dev: id });
        await ok(g, 'sendFrames', { dev: id, dst: '02:00:00:00:00:99', from: 0, count: 20, len: 100 });
        for (let i = 0; i < 20; i++) expect(new DataView((await peer.next()).buffer).getUint32(14, true)).toBe(i); // guest -> wire
        const mac = Buffer.from(String(n.mac).split(':').map((x) => parseInt(x, 16)));
        for (let i = 0; i < 20; i++) {
          const f = Buffer.alloc(80);
          mac.copy(f, 0);
          f.writeUInt16BE(0x88b5, 12);
          f.writeUInt32LE(1000 + i, 14);
          peer.sock.send(f, port, '127.0.0.1');
        }
        expect((await ok(g, 'frames', { dev: id, atLeast: 20 })).seqs).toEqual(Array.from({ length: 20 }, (_, i) => 1000 + i)); // wire -> guest
        dev.setAttr('enabled', '0'); // and closes inside it
      });
      expect(rec.steps.some((st) => st.k === 'entry' && st['name'] === 'wireFrame')).toBe(true);
      const r = replayTwice(rec); // a replay opens nothing: the socket's answers come from the recording
      expect((r.final.data as any).counters).toMatchObject({ tx_frames: 20, rx_frames: 20 });
      // A tap whose socket is already open cannot be recorded: the replay could not open it.
      const h = makeHost();
      const open = h.createDevice('t1');
      h.setType(open, 'venet-tap');
      open.setAttr('ifname', 'udp:127.0.0.1:0');
      open.setAttr('enabled', '1');
      expect(() => recordDevice(open)).toThrow(/EBUSY: cannot record t1 now: its socket is open, outside the recording/);
    } finally {
      peer.close();
    }
  });

  it('vconsole: a stream both ways through the memory endpoint', async () => {
    const { rec } = await recordRun('vconsole', {}, async (_h, g, id, dev) => {
      await ok(g, 'openCon', { dev: id });
      const text = Array.from({ length: 200 }, (_, i) => `line ${i}\n`).join('');
      await ok(g, 'conWrite', { dev: id, text });
      const con = dev.model as ConsoleModel;
      let out = '';
      await eventually(() => { out += new TextDecoder().decode(con.hostRead()); return out.length >= text.length; });
      expect(out).toBe(text);
      await con.hostWrite('typed by the host');
      expect((await ok(g, 'conRead', { dev: id, atLeast: 17 })).text).toBe('typed by the host');
    });
    const r = replayTwice(rec);
    expect((r.final.data as any).counters).toMatchObject({ rx_bytes: 17 });
  });

  it('vrng: entropy requests (the CSPRNG and clock answers come from the recording)', async () => {
    const { rec } = await recordRun('vrng', { quota_bytes_per_s: '100000' }, async (_h, g, id) => {
      await ok(g, 'openRng', { dev: id });
      for (let i = 0; i < 20; i++) await ok(g, 'rngRead', { dev: id, n: 256 });
    });
    const r = replayTwice(rec);
    expect((r.final.data as any).totals.requests).toBeGreaterThanOrEqual(20);
  });
});

describe('record and replay: faults and damage', () => {
  it('a recorded hostile write replays to the same fault, at the same step', async () => {
    const { rec, dev } = await recordRun('venet-loopback', {}, async (_h, g, id, d) => {
      const n = await ok(g, 'openNet', { dev: id });
      await ok(g, 'sendFrames', { dev: id, dst: n.mac, from: 0, count: 10 });
      await ok(g, 'frames', { dev: id, atLeast: 10 });
      await ok(g, 'corruptTx', { dev: id });
      await eventually(() => d.attr('faults') === '1');
    });
    expect(dev.attr('faults')).toBe('1');
    const r = replayTwice(rec);
    expect((r.final.data as any).counters.faults).toBe(1);
    // The replay of the recording cut just before the step that faulted has no fault yet.
    const faultAt = firstStepWhere(rec, (cut) => (replayRecording(cut, { classes: SHIPPED_CLASSES }).final.data as any).counters.faults === 1);
    expect(rec.steps[faultAt]!.k).toBe('poll');
  });

  it('refuses a damaged, truncated or foreign recording with a clear error', async () => {
    const { rec } = await recordRun('vrng', {}, async (_h, g, id) => {
      await ok(g, 'openRng', { dev: id });
      await ok(g, 'rngRead', { dev: id, n: 32 });
    });
    const bytes = encodeRecording(rec);
    const bad = bytes.slice();
    bad[bad.length >> 1] ^= 1;
    expect(() => decodeRecording(bad, 'run.rec')).toThrow(/run\.rec is not a valid vbus recording file: checksum mismatch/);
    expect(() => decodeRecording(bytes.subarray(0, 40), 'cut.rec')).toThrow(/cut\.rec is not a valid vbus recording file/);
    expect(() => decodeRecording(new TextEncoder().encode('hello, I am not a recording at all'), 'x.txt')).toThrow(/magic/);
    expect(() => replayRecording({ ...rec, cls: 'no-such-class' }, { classes: SHIPPED_CLASSES })).toThrow(/class no-such-class/);
  });

  it('a replay that diverges says where: a changed reply is found at its step', async () => {
    const { rec } = await recordRun('venet-loopback', {}, async (_h, g, id) => { await ok(g, 'openNet', { dev: id }); });
    const i = rec.steps.findIndex((s) => s.k === 'call');
    const steps = rec.steps.map((s, j) => (j === i ? { ...s, reply: new Uint8Array(((s as any).reply as Uint8Array).length) } : s));
    const r = replayRecording({ ...rec, steps }, { classes: SHIPPED_CLASSES });
    expect(r.ok).toBe(false);
    expect(r.mismatches[0]).toMatchObject({ step: i, what: 'call reply' });
  });

  it('a recording is bounded: past maxBytes it keeps no more steps and says so', async () => {
    const h = makeHost();
    const bus = h.createBus('lan0', { memoryBytes: 8 << 20 });
    const dev = h.createDevice('d0');
    h.setType(dev, 'venet-loopback');
    const recorder = recordDevice(dev, { maxBytes: 4096 });
    h.link(bus, dev);
    const g = await stateGuest(h, bus);
    const n = await ok(g, 'openNet', { dev: 0 });
    await ok(g, 'sendFrames', { dev: 0, dst: n.mac, from: 0, count: 100, len: 1000 });
    expect((await ok(g, 'frames', { dev: 0, atLeast: 100 })).seqs.length).toBe(100); // the device kept working
    h.unlink(bus, dev);
    const rec = recorder.stop();
    expect(rec.truncated).toBe(true);
    expect(rec.final).toBeNull();
    expect(encodeRecording(rec).length).toBeLessThan(4096 + 4096);
    expect(replayRecording(rec, { classes: SHIPPED_CLASSES }).ok).toBe(true); // what was kept replays
  });
});

/** The first step k such that replaying steps[0..k] satisfies `pred`. */
function firstStepWhere(rec: Recording, pred: (cut: Recording) => boolean): number {
  for (let k = 0; k < rec.steps.length; k++) {
    if (pred({ ...rec, steps: rec.steps.slice(0, k + 1), final: null, truncated: true })) return k;
  }
  return -1;
}

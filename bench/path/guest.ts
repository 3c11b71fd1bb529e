/**
 * The path benchmark's guest worker. A job keeps `window` requests in flight for `ms`
 * and times each (submit to completion, µs):
 *  - `direct` (vbus-host, vbus-backend): through the real drivers on device 0 — frames
 *    to the guest's own MAC through venet-loopback, 4 KiB reads from vdisk, 8-byte
 *    DEVCALLs to the echo device;
 *  - `qemu` (qemu-like): each request is posted to the main thread, which answers each
 *    by postMessage (bench/path/local-device.ts), the user-space-emulator path.
 */
import { joinBus, openVdisk, openVenet, type VdiskDriver, type VenetDriver } from '../../src/index.js';
import type { GuestMessage, Job, ReplyMessage } from './protocol.js';

const guest = await joinBus();
const post = (m: GuestMessage): void => guest.post(m);
const MAX_SAMPLES = 1 << 20;
const ETHERTYPE_BENCH = 0x88b5; // IEEE local experimental
const SEQ_AT = 16; // frame bytes 16..19 carry the request's sequence number

let venet: VenetDriver | null = null;
/** The running qemu-like job's reply handler. */
let onReply: ((r: ReplyMessage) => void) | null = null;
let vdisk: VdiskDriver | null = null;

/** Random 4 KiB-aligned offsets inside `capacity` (xorshift32: cheaper than the I/O). */
function offsets(capacity: number, bytes: number): () => number {
  let s = 0x9e3779b9;
  const slots = Math.max(1, Math.floor(capacity / bytes));
  return () => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return ((s >>> 0) % slots) * bytes; };
}

class Samples {
  readonly a = new Float64Array(MAX_SAMPLES);
  n = 0;
  add(us: number): void { if (this.n < MAX_SAMPLES) this.a[this.n++] = us; }
  take(): Float64Array { return this.a.slice(0, this.n); }
}

function frameTemplate(mac: Uint8Array, bytes: number): Uint8Array {
  const f = new Uint8Array(bytes);
  f.set(mac, 0);
  f.set(mac, 6);
  f[12] = ETHERTYPE_BENCH >> 8; f[13] = ETHERTYPE_BENCH & 0xff;
  for (let i = 20; i < bytes; i++) f[i] = i & 0xff;
  return f;
}

async function runFrames(job: Job, s: Samples): Promise<number> {
  const drv = venet ??= openVenet(guest, 0, { txBytes: 1 << 20, rxBytes: 1 << 20 });
  const frame = frameTemplate(drv.mac, job.bytes);
  const fv = new DataView(frame.buffer);
  const sentAt = new Float64Array(job.window);
  let seq = 0, done = 0, stop = false;
  const sendOne = (): void => {
    fv.setUint32(SEQ_AT, seq, true);
    sentAt[seq % job.window] = performance.now();
    while (!drv.send(frame)) drv.waitSpaceSync(50);
    seq++;
  };
  const off = drv.listen((f) => {
    const k = new DataView(f.buffer, f.byteOffset, f.length).getUint32(SEQ_AT, true);
    s.add((performance.now() - sentAt[k % job.window]!) * 1000);
    done++;
    if (!stop) sendOne();
  });
  const end = performance.now() + job.ms;
  for (let i = 0; i < job.window; i++) sendOne();
  while (performance.now() < end) if (drv.poll() === 0) drv.waitSync(100);
  stop = true;
  const drainEnd = performance.now() + 2000;
  while (done < seq && performance.now() < drainEnd) if (drv.poll() === 0) drv.waitSync(50);
  off();
  return done;
}

async function runDisk(job: Job, s: Samples): Promise<number> {
  const disk = vdisk ??= openVdisk(guest, 0, { queueDepth: 64, bufferBytes: 8 << 20 });
  const next = offsets(disk.capacity, job.bytes);
  let done = 0, stop = false;
  const loop = async (): Promise<void> => {
    const into = new Uint8Array(job.bytes);
    while (!stop) {
      const t = performance.now();
      await disk.readInto(next(), into);
      s.add((performance.now() - t) * 1000);
      done++;
    }
  };
  const timer = setTimeout(() => { stop = true; }, job.ms);
  await Promise.all(Array.from({ length: job.window }, loop));
  clearTimeout(timer);
  return done;
}

function runCalls(job: Job, s: Samples): number {
  const conn = guest.open(0, 1);
  const payload = new Uint8Array(job.bytes).fill(7);
  const out = new Uint8Array(64);
  const end = performance.now() + job.ms;
  let done = 0;
  while (performance.now() < end) {
    const t = performance.now();
    if (conn.callInto(1, payload, out) !== job.bytes) throw new Error('echo call failed');
    s.add((performance.now() - t) * 1000);
    done++;
  }
  conn.close();
  return done;
}

/** qemu-like: every request a message to the main thread, every reply a message back. */
function runQemu(job: Job, s: Samples): Promise<number> {
  return new Promise((resolve) => {
    const sentAt = new Float64Array(job.window);
    const next = offsets(64 << 20, job.bytes);
    const payload = job.device === 'vdisk' ? new Uint8Array(new Uint32Array([job.bytes]).buffer) : job.device === 'venet-loopback' ? frameTemplate(new Uint8Array([2, 0, 0, 0, 0, 1]), job.bytes) : new Uint8Array(job.bytes).fill(7);
    let seq = 0, done = 0, stop = false;
    const sendOne = (): void => {
      sentAt[seq % job.window] = performance.now();
      post({ event: 'request', seq, device: job.device, offset: next(), payload }); // a structured clone per request, as a message queue does
      seq++;
    };
    const off = (): void => { onReply = null; };
    onReply = (r) => {
      if (r.status < 0) throw new Error(`qemu-like request failed: ${r.status}`);
      s.add((performance.now() - sentAt[r.seq % job.window]!) * 1000);
      done++;
      if (!stop) sendOne();
      else if (done === seq) { off(); resolve(done); }
    };
    setTimeout(() => { stop = true; if (done === seq) { off(); resolve(done); } }, job.ms);
    for (let i = 0; i < job.window; i++) sendOne();
  });
}

guest.onMessage((m) => {
  if ((m as ReplyMessage).event === 'reply') { onReply?.(m as ReplyMessage); return; }
  const job = m as Job;
  if (job.cmd !== 'run') return;
  const s = new Samples();
  const t0 = performance.now();
  const work = job.mode === 'qemu' ? runQemu(job, s)
    : job.device === 'venet-loopback' ? runFrames(job, s)
      : job.device === 'vdisk' ? runDisk(job, s)
        : Promise.resolve(runCalls(job, s));
  work.then(
    (ops) => post({ event: 'result', ops, seconds: (performance.now() - t0) / 1000, samples: s.take() }),
    (e: Error) => post({ event: 'error', message: String(e?.stack ?? e) }),
  );
});
post({ event: 'ready' });

/**
 * The ring bench's peer worker: consumes in the one-way cases, echoes in the round-trip
 * cases, and pins itself on request. Driven by bench/ring/*.ts through messages
 * (bench/ring/protocol.ts); start/stop handshakes go through shared control words so
 * the main thread can block while it measures.
 *
 * Every consumer checks each record: its length, and the sequence number the producer
 * stamped into its first four bytes.
 */
import { parentPort } from 'node:worker_threads';
import { RingBuffer } from 'ringbuf.js';
import { BusMemory, RingConsumer, Waiter, Notifier, parkedWord, ringRecordBytes, serveSync } from '../../src/internal.js';
import { REC_HEADER_BYTES } from '../../assembly/layout/ring.js';
import { JsRingConsumer, JsSignal, JS_EMPTY } from '../baselines/js-ring.js';
import { pinSelf, unpinSelf } from '../harness/pin.js';
import { ringbufBatch } from '../ring/config.js';
import { CTL, PING_STOP, type OnewayCmd, type PeerCmd, type PeerReply, type RttCmd } from '../ring/protocol.js';

if (!parentPort) throw new Error('ring-peer must run in a worker thread');
const port = parentPort;

/** Bus attachments by memory (the same Memory object arrives anew with every message, so key by buffer). */
const buses = new WeakMap<SharedArrayBuffer, BusMemory>();
function attach(memory: WebAssembly.Memory, module: WebAssembly.Module): BusMemory {
  const key = memory.buffer as unknown as SharedArrayBuffer;
  let bus = buses.get(key);
  if (!bus) { bus = BusMemory.attach(memory, module); buses.set(key, bus); }
  return bus;
}

function signalReady(ctl: Int32Array): void {
  Atomics.store(ctl, CTL.READY, 1); // the main thread may start producing
  Atomics.notify(ctl, CTL.READY);
}
function signalDone(ctl: Int32Array): void {
  Atomics.store(ctl, CTL.DONE, 1); // after the last record was checked
  Atomics.notify(ctl, CTL.DONE);
}

// ----------------------------------------------------------------------------------
// One-way consumers. Each returns the number of records whose length or sequence
// number was wrong.

function consumeVbus(cmd: OnewayCmd, ctl: Int32Array): PeerReply {
  const bus = attach(cmd.memory!, cmd.module!);
  const cons = new RingConsumer(bus, cmd.ring!);
  const waiter = new Waiter(bus, cmd.signal!);
  const u32 = bus.u32;
  const { size, count } = cmd;
  const dst = cmd.scratch!;
  const dstCap = cmd.scratchBytes!;
  let got = 0;
  let errors = 0;
  signalReady(ctl);
  /** Takes what is in the ring now (each mode's own way); returns the records taken. */
  const take = (): number => {
    let n = 0;
    if (cmd.impl === 'vbus') {
      for (;;) {
        const len = cons.popTo(dst, dstCap);
        if (len < 0) break;
        if (len !== size || u32[dst >> 2] !== ((got + n) >>> 0)) errors++;
        n++;
      }
    } else if (cmd.impl === 'vbus-batched') {
      // Records have one size, so the k-th packed record is at a known place: checking the
      // first and the last of each batch (length and sequence number) catches any loss,
      // duplicate or reordering without a JS loop over every record.
      const rec = ringRecordBytes(size);
      for (;;) {
        const k = cons.popBatch(dst, dstCap);
        if (k <= 0) break;
        const last = dst + (k - 1) * rec;
        if (u32[dst >> 2] !== size || u32[(dst + REC_HEADER_BYTES) >> 2] !== ((got + n) >>> 0)) errors++;
        if (u32[last >> 2] !== size || u32[(last + REC_HEADER_BYTES) >> 2] !== ((got + n + k - 1) >>> 0)) errors++;
        n += k;
      }
    } else {
      // vbus-reserve: the consumer reads in place too (peek ... release).
      for (;;) {
        const len = cons.peek();
        if (len < 0) break;
        if (len !== size || u32[cons.peekOffset >> 2] !== ((got + n) >>> 0)) errors++;
        n++;
        if ((n & 63) === 0) cons.release();
      }
      cons.release();
    }
    got += n;
    return n;
  };
  // The serve loop (src/core/serve-loop.ts) around the drain; while records keep coming
  // it drains again with notification off (drainUntilEmpty), as a busy consumer should.
  serveSync(waiter, {
    drain: take,
    arrived: () => cons.used() > 0,
    running: () => got < count && !cons.faulted,
    sliceMs: Infinity,
    drainUntilEmpty: true,
  });
  if (cons.faulted) return { ok: false, error: `ring faulted: ${cons.fault}` };
  signalDone(ctl);
  return { ok: true, count: got, errors, parks: waiter.parks };
}

function consumeJsRing(cmd: OnewayCmd, ctl: Int32Array): PeerReply {
  const cons = new JsRingConsumer(cmd.sab!, cmd.ringOffset!, cmd.ringCap!);
  const sig = new JsSignal(cmd.sab!, cmd.signalOffset!);
  const into = new Uint8Array(Math.max(cmd.size, 8));
  const first = new Uint32Array(into.buffer, 0, 1);
  const { size, count } = cmd;
  let got = 0;
  let errors = 0;
  signalReady(ctl);
  // The baseline's own copy of the waiter protocol (JsSignal is not the core's Waiter):
  // it measures what a hand-written JS ring costs, so it does not use the serve loop.
  let armed = true;
  while (got < count) {
    if (armed) { sig.disable(); armed = false; }
    let n = 0;
    for (;;) {
      const len = cons.pop(into);
      if (len < 0) { if (len !== JS_EMPTY) return { ok: false, error: 'js-ring faulted' }; break; }
      if (len !== size || first[0] !== ((got + n) >>> 0)) errors++;
      n++;
    }
    got += n;
    if (got >= count) break;
    if (n > 0) continue;
    sig.enable();
    armed = true;
    if (cons.hasData()) continue;
    sig.waitSync();
  }
  signalDone(ctl);
  return { ok: true, count: got, errors };
}

function consumeRingbuf(cmd: OnewayCmd, ctl: Int32Array): PeerReply {
  // ringbuf.js has no notification: its consumer polls (the best case for it when the
  // threads run on different cores).
  const rb = new RingBuffer(cmd.sab!, Uint8Array as never);
  const { size, count } = cmd;
  const batch = cmd.impl === 'ringbuf.js-batch32' ? ringbufBatch(size) : 1;
  const into = new Uint8Array(size * batch);
  const words = new Uint32Array(into.buffer);
  const stride = size >> 2;
  let got = 0;
  let errors = 0;
  signalReady(ctl);
  while (got < count) {
    const want = Math.min(batch, count - got);
    if (rb.availableRead() < want * size) continue;
    rb.pop(into, want * size);
    for (let i = 0; i < want; i++) {
      if (words[i * stride] !== ((got + i) >>> 0)) errors++;
    }
    got += want;
  }
  signalDone(ctl);
  return { ok: true, count: got, errors };
}

function consumePostMessage(cmd: OnewayCmd, ctl: Int32Array): Promise<PeerReply> {
  return new Promise((resolve) => {
    const mp = cmd.port!;
    const { size, count } = cmd;
    let got = 0;
    let errors = 0;
    mp.on('message', (buf: ArrayBuffer) => {
      if (buf.byteLength !== size || new Uint32Array(buf, 0, 1)[0] !== (got >>> 0)) errors++;
      got++;
      Atomics.store(ctl, CTL.CONSUMED, got); // flow control: the producer keeps a bounded window
      Atomics.notify(ctl, CTL.CONSUMED);
      if (got >= count) {
        mp.close();
        signalDone(ctl);
        resolve({ ok: true, count: got, errors });
      }
    });
    mp.start();
    signalReady(ctl);
  });
}

// ----------------------------------------------------------------------------------
// Round-trip echo loops.

function echoAtomics(ctl: Int32Array): number {
  let n = 0;
  signalReady(ctl);
  for (let i = 1; ; i++) {
    let v: number;
    while ((v = Atomics.load(ctl, CTL.PING)) < i) Atomics.wait(ctl, CTL.PING, v); // plain park, no spin
    if (v === PING_STOP) break;
    Atomics.store(ctl, CTL.PONG, i); // answer
    Atomics.notify(ctl, CTL.PONG, 1);
    n++;
  }
  return n;
}

function echoAdaptive(cmd: RttCmd, ctl: Int32Array): number {
  const bus = attach(cmd.memory!, cmd.module!);
  const waiter = new Waiter(bus, cmd.sigIn!, { peer: parkedWord(bus, cmd.sigOut!), answers: true }); // main parks on sigOut; after our pong it owes the next ping
  const notifier = new Notifier(bus, cmd.sigOut!);
  const i32 = bus.i32;
  const ping = cmd.pingOffset! >> 2;
  const pong = cmd.pongOffset! >> 2;
  let n = 0;
  let stop = false;
  signalReady(ctl);
  // The "data" is the ping word: a drain answers it when it is ahead of the pongs sent.
  serveSync(waiter, {
    drain: () => {
      const v = Atomics.load(i32, ping); // pairs with the main thread's store before its raise
      if (v === PING_STOP) { stop = true; return 0; }
      if (v <= n) return 0;
      Atomics.store(i32, pong, ++n); // data before the raise that announces it
      notifier.raise();
      return 1;
    },
    arrived: () => Atomics.load(i32, ping) > n, // PING_STOP is larger than any count
    running: () => !stop,
    sliceMs: Infinity,
    drainUntilEmpty: true,
  });
  return n;
}

function echoPostMessage(cmd: RttCmd, ctl: Int32Array): Promise<number> {
  return new Promise((resolve) => {
    const mp = cmd.port!;
    let n = 0;
    mp.on('message', (m: number) => {
      if (m === PING_STOP) { mp.close(); resolve(n); return; }
      n++;
      mp.postMessage(m);
    });
    mp.start();
    signalReady(ctl);
  });
}

async function handle(cmd: PeerCmd): Promise<PeerReply> {
  switch (cmd.kind) {
    case 'pin': return { ok: pinSelf(cmd.cpu) };
    case 'unpin': return { ok: unpinSelf() };
    case 'oneway': {
      const ctl = new Int32Array(cmd.ctl);
      if (cmd.impl.startsWith('vbus')) return consumeVbus(cmd, ctl);
      if (cmd.impl === 'js-ring') return consumeJsRing(cmd, ctl);
      if (cmd.impl.startsWith('ringbuf.js')) return consumeRingbuf(cmd, ctl);
      return consumePostMessage(cmd, ctl);
    }
    case 'rtt': {
      const ctl = new Int32Array(cmd.ctl);
      let n: number;
      if (cmd.impl === 'atomics-wait') n = echoAtomics(ctl);
      else if (cmd.impl === 'vbus-adaptive') n = echoAdaptive(cmd, ctl);
      else n = await echoPostMessage(cmd, ctl);
      return { ok: true, count: n };
    }
  }
}

port.on('message', (cmd: PeerCmd) => {
  handle(cmd).then(
    (r) => port.postMessage(r),
    (e: unknown) => port.postMessage({ ok: false, error: e instanceof Error ? e.stack ?? e.message : String(e) }),
  );
});

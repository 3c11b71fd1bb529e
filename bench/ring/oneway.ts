/**
 * One-way main -> worker throughput. The main thread produces `count` records of one
 * size through one implementation; the peer worker consumes and checks them. Time runs
 * from the worker's "ready" to its "done" (every record consumed and checked).
 *
 * Every producer stamps the record's sequence number into its first four bytes, and
 * spins when the ring is full (the peer runs on another core in this bench).
 */
import { MessageChannel } from 'node:worker_threads';
import { RingBuffer } from 'ringbuf.js';
import {
  BusMemory, createRing, destroyRing, createSignal, destroySignal, RingProducer, Notifier,
  IovList, Status, ringRecordBytes,
} from '../../src/internal.js';
import { JsRingProducer, JsSignal, jsRingBytes, JS_SIGNAL_BYTES, JS_FULL } from '../baselines/js-ring.js';
import { Peer, waitForWord } from '../harness/peer.js';
import { CTL, CTL_BYTES, type OnewayCmd, type OnewayImpl, type PeerCmd, type PeerReply } from './protocol.js';
import { batchSize, ringCapacity, ringbufBatch, POSTMESSAGE_WINDOW } from './config.js';
import { IOV_BYTES } from '../../assembly/layout/ring.js';

export type RingPeer = Peer<PeerCmd, PeerReply>;

/** The bus memory the vbus cases share (regions are placed and freed per measurement). */
export class OnewayBus {
  readonly bus = BusMemory.create({ bytes: 8 << 20 });
}

interface Produced { secs: number }

function fail(msg: string): never { throw new Error(`oneway: ${msg}`); }

async function finish(peer: Promise<PeerReply>, count: number, label: string): Promise<void> {
  const r = await peer;
  if (!r.ok) fail(`${label}: peer failed: ${r.error}`);
  if (r.count !== count) fail(`${label}: peer consumed ${r.count} of ${count} records`);
  if (r.errors) fail(`${label}: ${r.errors} records arrived with a wrong length or sequence number`);
}

/** Runs one measurement; returns the elapsed seconds. */
export async function runOneway(peer: RingPeer, ob: OnewayBus, impl: OnewayImpl, size: number, count: number): Promise<Produced> {
  const ctlSab = new SharedArrayBuffer(CTL_BYTES);
  const ctl = new Int32Array(ctlSab);
  const label = `${impl} ${size} B`;
  const cap = ringCapacity(size);
  const B = batchSize(size);

  if (impl.startsWith('vbus')) {
    const bus = ob.bus;
    const ring = createRing(bus, cap);
    const signal = createSignal(bus);
    const scratchBytes = Math.max(1 << 16, 4 * ringRecordBytes(size)) + 64;
    const scratch = bus.allocRegion(scratchBytes, 'bench scratch');
    const slot = (size + 7) & ~7;
    const src = bus.allocRegion(slot * B, 'bench source');
    const iovOff = bus.allocRegion(IovList.bytes(B), 'bench iov');
    try {
      bus.u8.fill(0x5a, src, src + slot * B);
      const cmd: OnewayCmd = { kind: 'oneway', impl, ctl: ctlSab, size, count, memory: bus.memory, module: bus.module, ring, signal, scratch, scratchBytes };
      const reply = peer.call(cmd);
      waitForWord(ctl, CTL.READY, 1, 60_000, `${label} consumer`);
      const prod = new RingProducer(bus, ring);
      const notifier = new Notifier(bus, signal);
      const u32 = bus.u32;
      const t0 = performance.now();
      if (impl === 'vbus') {
        const s = src >> 2;
        for (let i = 0; i < count;) {
          u32[s] = i;
          const st = prod.pushFrom(src, size);
          if (st === 0) { notifier.raise(); i++; } else if (st !== Status.FULL) fail(`${label}: push returned ${st}`);
        }
      } else if (impl === 'vbus-batched') {
        const iov = new IovList(bus, iovOff, B);
        for (let k = 0; k < B; k++) iov.add(src + k * slot, size);
        for (let i = 0; i < count;) {
          const m = Math.min(B, count - i);
          for (let k = 0; k < m; k++) u32[(src + k * slot) >> 2] = i + k;
          let done = 0;
          while (done < m) {
            const n = prod.pushBatch(iovOff + done * IOV_BYTES, m - done);
            if (n > 0) { done += n; notifier.raise(); } else if (n < 0) fail(`${label}: pushBatch returned ${n}`);
          }
          i += m;
        }
      } else {
        // vbus-reserve: JS writes each payload in place, B reserves per commit.
        const u8 = bus.u8;
        const template = new Uint8Array(size).fill(0x5a);
        const words = size >> 2;
        for (let i = 0; i < count;) {
          const m = Math.min(B, count - i);
          for (let k = 0; k < m;) {
            const at = prod.reserve(size);
            if (at < 0) {
              if (at !== Status.FULL) fail(`${label}: reserve returned ${at}`);
              if (prod.commit() > 0) notifier.raise(); // let the consumer free room
              continue;
            }
            if (size <= 64) {
              const w = at >> 2;
              for (let j = 1; j < words; j++) u32[w + j] = 0x5a5a5a5a;
            } else {
              u8.set(template, at);
            }
            u32[at >> 2] = i + k;
            k++;
          }
          prod.commit();
          notifier.raise();
          i += m;
        }
      }
      waitForWord(ctl, CTL.DONE, 1, 120_000, `${label} consumer to finish`);
      const secs = (performance.now() - t0) / 1000;
      await finish(reply, count, label);
      return { secs };
    } finally {
      bus.freeRegion(iovOff);
      bus.freeRegion(src);
      bus.freeRegion(scratch);
      destroySignal(bus, signal);
      destroyRing(bus, ring);
    }
  }

  if (impl === 'js-ring') {
    const sigOff = (jsRingBytes(cap) + 63) & ~63;
    const sab = new SharedArrayBuffer(sigOff + JS_SIGNAL_BYTES);
    const cmd: OnewayCmd = { kind: 'oneway', impl, ctl: ctlSab, size, count, sab, ringOffset: 0, ringCap: cap, signalOffset: sigOff };
    const reply = peer.call(cmd);
    waitForWord(ctl, CTL.READY, 1, 60_000, `${label} consumer`);
    const prod = new JsRingProducer(sab, 0, cap);
    const sig = new JsSignal(sab, sigOff);
    const msg = new Uint8Array(size).fill(0x5a);
    const first = new Uint32Array(msg.buffer, 0, 1);
    const t0 = performance.now();
    for (let i = 0; i < count;) {
      first[0] = i;
      const st = prod.push(msg);
      if (st === 0) { sig.raise(); i++; } else if (st !== JS_FULL) fail(`${label}: push returned ${st}`);
    }
    waitForWord(ctl, CTL.DONE, 1, 120_000, `${label} consumer to finish`);
    const secs = (performance.now() - t0) / 1000;
    await finish(reply, count, label);
    return { secs };
  }

  if (impl === 'ringbuf.js' || impl === 'ringbuf.js-batch32') {
    const sab = RingBuffer.getStorageForCapacity(cap, Uint8Array as never);
    const cmd: OnewayCmd = { kind: 'oneway', impl, ctl: ctlSab, size, count, sab };
    const reply = peer.call(cmd);
    waitForWord(ctl, CTL.READY, 1, 60_000, `${label} consumer`);
    const rb = new RingBuffer(sab, Uint8Array as never);
    const batch = impl === 'ringbuf.js' ? 1 : ringbufBatch(size);
    const msg = new Uint8Array(size * batch).fill(0x5a);
    const words = new Uint32Array(msg.buffer);
    const stride = size >> 2;
    const t0 = performance.now();
    for (let i = 0; i < count;) {
      const m = Math.min(batch, count - i);
      for (let k = 0; k < m; k++) words[k * stride] = i + k;
      const bytes = m * size;
      while (rb.availableWrite() < bytes) { /* full: the consumer polls, so just retry */ }
      rb.push(msg, bytes);
      i += m;
    }
    waitForWord(ctl, CTL.DONE, 1, 120_000, `${label} consumer to finish`);
    const secs = (performance.now() - t0) / 1000;
    await finish(reply, count, label);
    return { secs };
  }

  // postMessage: a structured-clone copy of an ArrayBuffer per record, with a bounded window.
  const { port1, port2 } = new MessageChannel();
  const cmd: OnewayCmd = { kind: 'oneway', impl, ctl: ctlSab, size, count, port: port2 };
  const reply = peer.call(cmd, [port2]);
  waitForWord(ctl, CTL.READY, 1, 60_000, `${label} consumer`);
  const msg = new Uint8Array(size).fill(0x5a);
  const first = new Uint32Array(msg.buffer, 0, 1);
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    let c: number;
    while (i - (c = Atomics.load(ctl, CTL.CONSUMED)) >= POSTMESSAGE_WINDOW) Atomics.wait(ctl, CTL.CONSUMED, c, 1000); // window full
    first[0] = i;
    port1.postMessage(msg.buffer);
  }
  waitForWord(ctl, CTL.DONE, 1, 120_000, `${label} consumer to finish`);
  const secs = (performance.now() - t0) / 1000;
  port1.close();
  await finish(reply, count, label);
  return { secs };
}

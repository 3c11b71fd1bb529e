/**
 * Round-trip latency of the signal path: the main thread sends a sequence number, the
 * peer worker answers with it, and the main thread times each round trip. Runs for a
 * fixed time, then sends PING_STOP.
 *
 * - atomics-wait: a plain futex ping-pong (Atomics.wait / Atomics.notify, no spinning).
 * - vbus-adaptive: a data word plus a shm-signal each way, Notifier.raise and the
 *   Waiter's adaptive spin-then-park (waitSync on both sides; each side names the other's
 *   signal as its peer, so it spins only while the other runs).
 * - postMessage: a MessageChannel echo (the main thread awaits each answer).
 */
import { MessageChannel } from 'node:worker_threads';
import { createSignal, destroySignal, parkedWord, Notifier, Waiter, type BusMemory } from '../../src/internal.js';
import { waitForWord } from '../harness/peer.js';
import { CTL, CTL_BYTES, PING_STOP, type RttCmd, type RttImpl } from './protocol.js';
import type { RingPeer } from './oneway.js';

/** Longest run of samples kept per repeat. */
const MAX_SAMPLES = 1_000_000;

export interface RttResult {
  /** Round-trip times in microseconds. */
  samples: Float64Array;
  secs: number;
}

async function finishEcho(reply: Promise<{ ok: boolean; count?: number; error?: string }>, n: number, label: string): Promise<void> {
  const r = await reply;
  if (!r.ok) throw new Error(`rtt ${label}: peer failed: ${r.error}`);
  if (r.count !== n) throw new Error(`rtt ${label}: peer answered ${r.count} of ${n} pings`);
}

export async function runRtt(peer: RingPeer, bus: BusMemory, impl: RttImpl, seconds: number): Promise<RttResult> {
  const ctlSab = new SharedArrayBuffer(CTL_BYTES);
  const ctl = new Int32Array(ctlSab);
  const samples = new Float64Array(MAX_SAMPLES);
  let n = 0;

  if (impl === 'atomics-wait') {
    const reply = peer.call({ kind: 'rtt', impl, ctl: ctlSab });
    waitForWord(ctl, CTL.READY, 1, 60_000, 'echo worker');
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    let now = t0;
    while (now < end && n < MAX_SAMPLES) {
      const i = n + 1;
      const start = now;
      Atomics.store(ctl, CTL.PING, i); // ping
      Atomics.notify(ctl, CTL.PING, 1);
      let v: number;
      while ((v = Atomics.load(ctl, CTL.PONG)) < i) Atomics.wait(ctl, CTL.PONG, v); // plain park
      now = performance.now();
      samples[n++] = (now - start) * 1000;
    }
    const secs = (now - t0) / 1000;
    Atomics.store(ctl, CTL.PING, PING_STOP);
    Atomics.notify(ctl, CTL.PING, 1);
    await finishEcho(reply, n, impl);
    return { samples: samples.subarray(0, n), secs };
  }

  if (impl === 'vbus-adaptive') {
    const sigIn = createSignal(bus); // main -> worker
    const sigOut = createSignal(bus); // worker -> main
    const words = bus.allocRegion(128, 'rtt words');
    const pingOffset = words;
    const pongOffset = words + 64;
    try {
      bus.i32[pingOffset >> 2] = 0;
      bus.i32[pongOffset >> 2] = 0;
      const cmd: RttCmd = { kind: 'rtt', impl, ctl: ctlSab, memory: bus.memory, module: bus.module, sigIn, sigOut, pingOffset, pongOffset };
      const reply = peer.call(cmd);
      waitForWord(ctl, CTL.READY, 1, 60_000, 'echo worker');
      const notifier = new Notifier(bus, sigIn);
      const waiter = new Waiter(bus, sigOut, { peer: parkedWord(bus, sigIn), answers: true }); // the echo worker parks on sigIn and owes us each pong
      const i32 = bus.i32;
      const ping = pingOffset >> 2;
      const pong = pongOffset >> 2;
      const answered = (): boolean => Atomics.load(i32, pong) > n; // the pong of ping n + 1 is in
      waiter.disable(); // notification off between waits: parkSync turns it on and off again
      const t0 = performance.now();
      const end = t0 + seconds * 1000;
      let now = t0;
      while (now < end && n < MAX_SAMPLES) {
        const i = n + 1;
        const start = now;
        Atomics.store(i32, ping, i); // data before the raise that announces it
        notifier.raise();
        // Wait for the pong: one park per round (Waiter.parkSync: enable, re-check, park,
        // disable) until the worker's store, which it makes before its raise, is seen.
        while (Atomics.load(i32, pong) < i) waiter.parkSync(answered, Infinity);
        now = performance.now();
        samples[n++] = (now - start) * 1000;
      }
      const secs = (now - t0) / 1000;
      Atomics.store(i32, ping, PING_STOP);
      notifier.raise();
      await finishEcho(reply, n, impl);
      return { samples: samples.subarray(0, n), secs };
    } finally {
      bus.freeRegion(words);
      destroySignal(bus, sigOut);
      destroySignal(bus, sigIn);
    }
  }

  // postMessage echo
  const { port1, port2 } = new MessageChannel();
  const reply = peer.call({ kind: 'rtt', impl, ctl: ctlSab, port: port2 }, [port2]);
  waitForWord(ctl, CTL.READY, 1, 60_000, 'echo worker');
  let resolveNext: (() => void) | null = null;
  port1.on('message', () => { const r = resolveNext; resolveNext = null; r?.(); });
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let now = t0;
  while (now < end && n < MAX_SAMPLES) {
    const start = now;
    const answered = new Promise<void>((r) => { resolveNext = r; });
    port1.postMessage(n + 1);
    await answered;
    now = performance.now();
    samples[n++] = (now - start) * 1000;
  }
  const secs = (now - t0) / 1000;
  port1.postMessage(PING_STOP);
  await finishEcho(reply, n, impl);
  port1.close();
  return { samples: samples.subarray(0, n), secs };
}

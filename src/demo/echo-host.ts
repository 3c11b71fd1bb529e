/**
 * The echo host: creates a bus memory with two rings (to and from the guest), two
 * signals and a control line, sends seeded records and checks every echo byte for byte.
 * Environment-neutral. It never blocks its thread: it works in slices and waits with
 * Atomics.waitAsync, so it can run on a page's main thread.
 */
import {
  BusMemory, createRing, createSignal, RingConsumer, RingProducer, Notifier, Waiter,
  Status, readSignalStats, ringRecordBytes, ringRegionBytes, serveAsync,
} from '../core/index.js';
import { RING_MAX_TAG } from '../../assembly/layout/ring.js';
import type { SignalStats } from '../core/index.js';
import { vbusError } from '../errors.js';
import { hrtime } from '../platform/index.js';
import { ECHO_CTL_BYTES, ECHO_CTL_OFF_ECHOED, ECHO_CTL_OFF_STOP } from './echo-layout.js';
import type { EchoStart } from './echo-layout.js';
import { fillPattern, firstMismatch, patternLength } from './echo-pattern.js';

export interface EchoHostOptions {
  /** The compiled core (compile with loadCoreModule() on a page's main thread). */
  module?: WebAssembly.Module;
  /** Data bytes of each ring; a power of two. Default 64 KiB. */
  ringCapacity?: number;
  /** Largest record payload. Default 1500 (an Ethernet frame). */
  maxLen?: number;
  /** PRNG seed for the records. Default 1. */
  seed?: number;
  /** Longest stretch of work before yielding the thread, in ms. Default 8. */
  sliceMs?: number;
}

/** Live counters. */
export interface EchoStats {
  sent: number;
  received: number;
  /** Echoes whose length, tag and bytes all matched what was sent. */
  verified: number;
  mismatches: number;
  /** Payload bytes received and verified. */
  bytes: number;
  /** The guest's own count (read from the control line). */
  guestEchoed: number;
  /** The host's raises of the guest's signal. */
  toGuest: SignalStats;
  /** The guest's raises of the host's signal. */
  toHost: SignalStats;
  /** Times the host waited with Atomics.waitAsync. */
  hostParks: number;
  /** First mismatch seen, as a sentence, or null. */
  firstError: string | null;
}

/** Room beside the two rings: the bus header, two signals, the control line, alignment. */
const SMALL_REGIONS_BYTES = 4096;

export class EchoHost {
  readonly bus: BusMemory;
  readonly start: EchoStart;
  private readonly out: RingProducer;
  private readonly in: RingConsumer;
  private readonly notifyGuest: Notifier;
  private readonly wake: Waiter;
  private readonly seed: number;
  private readonly maxLen: number;
  private readonly sliceMs: number;
  /** Bytes of records in flight may not exceed this, so the guest's echo always fits. */
  private readonly window: number;
  private inFlight = 0;
  private running = false;
  private stopping = false;
  private sent = 0;
  private received = 0;
  private verified = 0;
  private mismatches = 0;
  private bytes = 0;
  private firstError: string | null = null;

  constructor(opts: EchoHostOptions = {}) {
    const capacity = opts.ringCapacity ?? 65536;
    this.maxLen = opts.maxLen ?? 1500;
    this.seed = (opts.seed ?? 1) | 0;
    this.sliceMs = opts.sliceMs ?? 8;
    if (!Number.isInteger(this.maxLen) || this.maxLen < 4) {
      throw vbusError('EINVAL', `echo maxLen ${this.maxLen} must be an integer >= 4`, { maxLen: this.maxLen });
    }
    // Each ring may also hold one padding record at the wrap, up to a record long.
    this.window = capacity - 2 * ringRecordBytes(this.maxLen);
    if (this.window < ringRecordBytes(this.maxLen)) {
      throw vbusError('EINVAL', `ring capacity ${capacity} is too small for records of ${this.maxLen} bytes (needs at least ${3 * ringRecordBytes(this.maxLen)})`, { capacity, maxLen: this.maxLen });
    }
    const ringBytes = 2 * ringRegionBytes(capacity);
    this.bus = BusMemory.create({ bytes: ringBytes + SMALL_REGIONS_BYTES, ...(opts.module ? { module: opts.module } : {}) });
    const toGuest = createRing(this.bus, capacity);
    const fromGuest = createRing(this.bus, capacity);
    const guestSignal = createSignal(this.bus);
    const hostSignal = createSignal(this.bus);
    const control = this.bus.allocRegion(ECHO_CTL_BYTES, 'echo control');
    this.bus.u8.fill(0, control, control + ECHO_CTL_BYTES);
    this.start = { memory: this.bus.memory, module: this.bus.module, toGuest, fromGuest, guestSignal, hostSignal, control };
    this.out = new RingProducer(this.bus, toGuest);
    this.in = new RingConsumer(this.bus, fromGuest);
    this.notifyGuest = new Notifier(this.bus, guestSignal);
    // The host shares its core with the page (or test); it should not spin long.
    this.wake = new Waiter(this.bus, hostSignal, { initial: 256, max: 4096 });
  }

  /** Live counters; cheap enough to poll for a display. */
  stats(): EchoStats {
    const ctl = this.start.control;
    return {
      sent: this.sent,
      received: this.received,
      verified: this.verified,
      mismatches: this.mismatches,
      bytes: this.bytes,
      guestEchoed: Atomics.load(this.bus.u32, (ctl + ECHO_CTL_OFF_ECHOED) >> 2),
      toGuest: readSignalStats(this.bus, this.start.guestSignal),
      toHost: readSignalStats(this.bus, this.start.hostSignal),
      hostParks: this.wake.parks,
      firstError: this.firstError,
    };
  }

  /**
   * Sends and verifies until {@link stop} (or until `until()` returns true, checked
   * between slices). Resolves when the loop has ended; the guest is told to stop then.
   */
  async run(until: () => boolean = () => false): Promise<void> {
    if (this.running) throw vbusError('EBUSY', 'echo host is already running');
    this.running = true;
    try {
      // The serve loop (src/core/serve-loop.ts): a drain is one slice of pumping; a slice
      // that made progress is followed by a turn of the event loop and another slice, and
      // only a slice with nothing to send (window full) and nothing echoed ends in a park
      // until the guest raises.
      await serveAsync(this.wake, {
        drain: () => {
          const sliceEnd = hrtime() + this.sliceMs;
          let progress = false;
          do progress = this.pump(); while (progress && hrtime() < sliceEnd && !this.stopping);
          return progress ? 1 : 0;
        },
        arrived: () => this.in.used() > 0,
        running: () => !this.stopping && !until(),
        sliceMs: 250,
        drainUntilEmpty: true,
        yieldEvery: 1,
      });
    } finally {
      this.running = false;
      this.signalStop();
    }
  }

  /** Ends {@link run} and tells the guest to stop. */
  stop(): void {
    this.stopping = true;
    this.signalStop();
  }

  private signalStop(): void {
    Atomics.store(this.bus.i32, (this.start.control + ECHO_CTL_OFF_STOP) >> 2, 1); // STOP before the raise that wakes the guest
    this.notifyGuest.raise();
  }

  /** One round: receive and verify what came back, then send what the window allows. */
  private pump(): boolean {
    let progress = false;
    const u8 = this.bus.u8;
    for (;;) {
      const len = this.in.peek();
      if (len === Status.EMPTY) break;
      if (len < 0) throw vbusError('EIO', `echo host: ring from the guest faulted: ${this.in.fault}`);
      this.check(u8, this.in.peekOffset, len, this.in.tag);
      progress = true;
    }
    if (progress && this.in.release() < 0) throw vbusError('EIO', `echo host: ring from the guest faulted: ${this.in.fault}`);

    let pushed = 0;
    for (;;) {
      const len = patternLength(this.seed, this.sent, this.maxLen);
      const rec = ringRecordBytes(len);
      if (this.inFlight + rec > this.window) break;
      const at = this.out.reserve(len, this.sent & RING_MAX_TAG);
      if (at === Status.FULL) break;
      if (at < 0) throw vbusError('EIO', `echo host: ring to the guest faulted: ${this.out.fault}`);
      fillPattern(u8, at, this.seed, this.sent, len);
      this.inFlight += rec;
      this.sent++;
      pushed++;
    }
    if (pushed > 0) {
      if (this.out.commit() < 0) throw vbusError('EIO', `echo host: ring to the guest faulted: ${this.out.fault}`);
      this.notifyGuest.raise(); // after the commit it announces
      progress = true;
    }
    return progress;
  }

  private check(u8: Uint8Array, at: number, len: number, tag: number): void {
    const seq = this.received++;
    const wantLen = patternLength(this.seed, seq, this.maxLen);
    this.inFlight -= ringRecordBytes(wantLen); // what was counted when it was sent
    let err: string | null = null;
    if (tag !== (seq & RING_MAX_TAG)) err = `record ${seq} came back with tag ${tag}`;
    else if (len !== wantLen) err = `record ${seq} came back ${len} bytes long, sent ${wantLen}`;
    else {
      const bad = firstMismatch(u8, at, this.seed, seq, len);
      if (bad >= 0) err = `record ${seq} differs at byte ${bad} of ${len}`;
    }
    if (err) {
      this.mismatches++;
      this.firstError ??= err;
    } else {
      this.verified++;
      this.bytes += len;
    }
  }
}

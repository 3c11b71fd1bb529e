/**
 * shm-signals: the TypeScript halves of assembly/signal.ts, where the protocol is
 * written down once (steps 1-3 for the signaler, a-e for the waiter).
 *
 * {@link Notifier} is the signaling side (after publishing data). {@link Waiter} is the
 * waiting side: it disables notification while draining, re-enables and re-checks, then
 * spins for a while and finally parks: `Atomics.wait` in a worker ({@link Waiter.waitSync}),
 * `Atomics.waitAsync` on the host ({@link Waiter.waitAsync}), which never blocks an event
 * loop. Parking happens in JavaScript, not wasm, because of the Node 20 Liftoff bug with
 * locals that live across memory.atomic.wait32 (DESIGN.md).
 *
 * Whether and how long to spin is decided by {@link AdaptiveSpin} (src/core/adaptive-spin.ts):
 * only with a lease from the process's spin gate (fewer spinners than cores), only while
 * the peer named in the policy is running, and for a budget learnt from outcomes.
 */
import {
  SIG_BYTES, SIG_OFF_ENABLED, SIG_OFF_PENDING, SIG_OFF_SLEEPING, SIG_OFF_RAISED,
  SIG_OFF_SUPPRESSED, SIG_OFF_NOTIFIES, SIG_OFF_MAGIC,
} from '../../assembly/layout/signal.js';
import { vbusError } from '../errors.js';
import type { BusMemory } from './bus-memory.js';
import { Status } from './status.js';
import { AdaptiveSpin, type PeerWord, type SpinPolicy } from './adaptive-spin.js';

export type { SpinPolicy } from './adaptive-spin.js';

/** Host: places and formats a signal region; returns its offset. */
export function createSignal(bus: BusMemory): number {
  const off = bus.allocRegion(SIG_BYTES, 'signal');
  if (bus.core.sig_init(off) < 0) {
    bus.freeRegion(off);
    throw vbusError('EINVAL', `cannot format a signal at ${off}`, { offset: off });
  }
  return off;
}

/** Host: returns a signal's region to the allocator. */
export function destroySignal(bus: BusMemory, offset: number): void {
  bus.u32[(offset + SIG_OFF_MAGIC) >> 2] = 0;
  bus.freeRegion(offset);
}

function checkSignal(bus: BusMemory, offset: number): void {
  bus.checkRange(offset, SIG_BYTES, 'signal region');
  const st = bus.core.sig_check(offset);
  if (st === Status.BAD_MAGIC) {
    throw vbusError('EINVAL', `no signal at offset ${offset}: magic or version does not match`, { offset });
  }
  if (st < 0) throw vbusError('EINVAL', `signal offset ${offset} must be 64-aligned`, { offset });
}

/** Counters kept by the signalers of one signal. */
export interface SignalStats {
  /** Wake-ups raised (PENDING went 0 -> 1 while enabled). */
  raised: number;
  /** Signals that needed no wake-up: the waiter was busy, or one was already pending. */
  suppressed: number;
  /** Raised wake-ups that had to call Atomics.notify because the waiter was parked. */
  notifies: number;
}

export function readSignalStats(bus: BusMemory, offset: number): SignalStats {
  const u32 = bus.u32;
  return {
    raised: u32[(offset + SIG_OFF_RAISED) >> 2]!,
    suppressed: u32[(offset + SIG_OFF_SUPPRESSED) >> 2]!,
    notifies: u32[(offset + SIG_OFF_NOTIFIES) >> 2]!,
  };
}

/** The signaling side. */
export class Notifier {
  constructor(readonly bus: BusMemory, readonly offset: number) {
    checkSignal(bus, offset);
  }
  /** Signals after publishing data. Returns true if a wake-up was raised, false if suppressed. */
  raise(): boolean {
    return this.bus.core.sig_raise(this.offset) !== 0;
  }
  stats(): SignalStats { return readSignalStats(this.bus, this.offset); }
}

/**
 * The word where the thread that waits on signal `offset` says it is parked (its
 * SLEEPING word): the `peer` of a spin policy whose events that thread produces.
 */
export function parkedWord(bus: BusMemory, offset: number): PeerWord {
  checkSignal(bus, offset);
  return { view: bus.i32, index: (offset + SIG_OFF_SLEEPING) >> 2 };
}

export type WaitResult = 'ok' | 'timed-out';

/** The waiting side. One thread at a time. */
export class Waiter {
  readonly bus: BusMemory;
  readonly offset: number;
  private readonly pendingIdx: number;
  private readonly sleepingIdx: number;
  private readonly enabledIdx: number;
  /** The adaptive spin budget (see AdaptiveSpin). */
  readonly spin: AdaptiveSpin;
  /** One chunk of the spin: polls PENDING in the core (sig_spin). */
  private readonly poll: (n: number) => number;

  constructor(bus: BusMemory, offset: number, policy: SpinPolicy = {}) {
    checkSignal(bus, offset);
    this.bus = bus;
    this.offset = offset;
    this.pendingIdx = (offset + SIG_OFF_PENDING) >> 2;
    this.sleepingIdx = (offset + SIG_OFF_SLEEPING) >> 2;
    this.enabledIdx = (offset + SIG_OFF_ENABLED) >> 2;
    this.spin = new AdaptiveSpin(policy);
    this.poll = (n) => bus.core.sig_spin(offset, n);
  }

  /** Current spin budget in polls. */
  get spinBudget(): number { return this.spin.current; }

  /** Waits that ended while spinning / had to park. */
  get spinHits(): number { return this.spin.hits; }
  get parks(): number { return this.spin.misses; }

  /** Step b: ask to be notified. Re-check your data source after this (step c). */
  enable(): void { this.bus.core.sig_enable(this.offset); }

  /** Step a: stop notifications and consume a pending wake-up; drain after this. */
  disable(): void { this.bus.core.sig_disable(this.offset); }

  /** Whether a wake-up is pending now. */
  get pending(): boolean { return Atomics.load(this.bus.i32, this.pendingIdx) !== 0; }

  /** Whether notification is enabled now. */
  get enabled(): boolean { return Atomics.load(this.bus.i32, this.enabledIdx) !== 0; }

  /**
   * Steps d-e in a worker: spin (adaptively), then park with Atomics.wait until a
   * wake-up is pending or `timeoutMs` passes. Call after enable() and a re-check that
   * found nothing. Does not clear PENDING: call disable() before draining.
   */
  waitSync(timeoutMs = Infinity): WaitResult {
    if (this.spin.spin(this.poll)) return 'ok';
    const i32 = this.bus.i32;
    Atomics.store(i32, this.sleepingIdx, 1); // before wait's own PENDING check (pairs with sig_raise)
    const r = Atomics.wait(i32, this.pendingIdx, 0, timeoutMs);
    Atomics.store(i32, this.sleepingIdx, 0); // awake: signalers may skip notify again
    return r === 'timed-out' ? 'timed-out' : 'ok';
  }

  /**
   * Steps d-e on an event loop: a short adaptive spin, then Atomics.waitAsync. Never
   * blocks the loop for longer than the spin budget.
   */
  async waitAsync(timeoutMs = Infinity): Promise<WaitResult> {
    if (this.spin.spin(this.poll)) return 'ok';
    const i32 = this.bus.i32;
    Atomics.store(i32, this.sleepingIdx, 1); // before waitAsync's PENDING check (pairs with sig_raise)
    const w = Atomics.waitAsync(i32, this.pendingIdx, 0, timeoutMs);
    const r = w.async ? await w.value : w.value;
    Atomics.store(i32, this.sleepingIdx, 0);
    return r === 'timed-out' ? 'timed-out' : 'ok';
  }


}

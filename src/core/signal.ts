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
 * The spin budget adapts (see {@link SpinPolicy}): when spinning keeps paying off (the
 * other thread answers on another core) it grows; when it keeps failing (the other thread
 * shares our core, so spinning only delays it) it shrinks to a small floor, and the waiter
 * parks almost at once. Two threads that both park can lock each other into slow round
 * trips even on different cores: each one's short spin ends before the other has woken
 * from its park (35-70 us here). So a waiter whose budget is at the floor sometimes probes
 * with one spin longer than a wake-up; if that pays off, the two are back to spinning
 * (the floor keeps the other side spinning long enough to catch the next signal). A
 * probe that fails doubles the interval to the next one, so threads that share a core
 * pay for probes rarely.
 */
import {
  SIG_BYTES, SIG_OFF_ENABLED, SIG_OFF_PENDING, SIG_OFF_SLEEPING, SIG_OFF_RAISED,
  SIG_OFF_SUPPRESSED, SIG_OFF_NOTIFIES, SIG_OFF_MAGIC,
} from '../../assembly/layout/signal.js';
import { vbusError } from '../errors.js';
import type { BusMemory } from './bus-memory.js';
import { Status } from './status.js';

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

/** Tuning for the adaptive spin. */
export interface SpinPolicy {
  /** Initial spin budget in polls. Default 1024. */
  initial?: number;
  /** Upper bound in polls (~1 ns each). Default 65536. */
  max?: number;
  /**
   * Smallest adaptive budget, in polls. Default 1024 (~0.5 us): long enough to catch an
   * answer from a peer that is spinning on another core, short enough to add little when
   * the peer shares our core.
   */
  floor?: number;
  /**
   * When the budget is at the floor, probe with this many polls (default 262144, longer
   * than a wake-up from Atomics.wait) every `probeEvery` waits (default 32). Each failed
   * probe doubles the interval, up to 256 x probeEvery; a probe that pays off resets it.
   */
  probe?: number;
  probeEvery?: number;
  /** Fixed budget, no adaptation (0 = always park at once). */
  fixed?: number;
}

export type WaitResult = 'ok' | 'timed-out';

/** The waiting side. One thread at a time. */
export class Waiter {
  readonly bus: BusMemory;
  readonly offset: number;
  private readonly pendingIdx: number;
  private readonly sleepingIdx: number;
  private readonly enabledIdx: number;
  private budget: number;
  private readonly max: number;
  private readonly floor: number;
  private readonly initial: number;
  private readonly probe: number;
  private readonly probeEvery: number;
  private probeInterval: number;
  private readonly fixed: number | undefined;
  private sinceProbe = 0;
  /** Waits that ended while spinning / by parking (for reports and tests). */
  spinHits = 0;
  parks = 0;

  constructor(bus: BusMemory, offset: number, policy: SpinPolicy = {}) {
    checkSignal(bus, offset);
    this.bus = bus;
    this.offset = offset;
    this.pendingIdx = (offset + SIG_OFF_PENDING) >> 2;
    this.sleepingIdx = (offset + SIG_OFF_SLEEPING) >> 2;
    this.enabledIdx = (offset + SIG_OFF_ENABLED) >> 2;
    this.max = policy.max ?? 65536;
    this.floor = Math.min(policy.floor ?? 1024, this.max);
    this.initial = Math.max(this.floor, Math.min(policy.initial ?? 1024, this.max));
    this.budget = this.initial;
    this.probe = policy.probe ?? 262144;
    this.probeEvery = Math.max(1, policy.probeEvery ?? 32);
    this.probeInterval = this.probeEvery;
    this.fixed = policy.fixed;
  }

  /** Current spin budget in polls. */
  get spinBudget(): number { return this.fixed ?? this.budget; }

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
    if (this.spin()) return 'ok';
    const i32 = this.bus.i32;
    this.parks++;
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
    if (this.spin()) return 'ok';
    const i32 = this.bus.i32;
    this.parks++;
    Atomics.store(i32, this.sleepingIdx, 1); // before waitAsync's PENDING check (pairs with sig_raise)
    const w = Atomics.waitAsync(i32, this.pendingIdx, 0, timeoutMs);
    const r = w.async ? await w.value : w.value;
    Atomics.store(i32, this.sleepingIdx, 0);
    return r === 'timed-out' ? 'timed-out' : 'ok';
  }

  /** Spins up to the current budget; adapts it. Returns true if a wake-up arrived. */
  private spin(): boolean {
    if (this.fixed !== undefined) {
      if (this.fixed === 0) return false;
      const hit = this.bus.core.sig_spin(this.offset, this.fixed) > 0;
      if (hit) this.spinHits++;
      return hit;
    }
    let budget = this.budget;
    let probing = false;
    if (budget <= this.floor && ++this.sinceProbe >= this.probeInterval) {
      this.sinceProbe = 0;
      budget = Math.max(budget, this.probe);
      probing = true;
    }
    if (budget === 0) return false;
    const left = this.bus.core.sig_spin(this.offset, budget);
    if (left > 0) {
      this.spinHits++;
      if (probing) {
        // The other side is answering while we spin: spin again, from the start budget.
        this.probeInterval = this.probeEvery;
        this.budget = Math.max(this.budget, this.initial);
      } else {
        // Paid off: keep room for about four times what it took.
        this.budget = Math.min(this.max, Math.max(this.budget, (budget - left) * 4));
      }
      return true;
    }
    if (probing) {
      this.probeInterval = Math.min(this.probeInterval * 2, this.probeEvery * 256);
    } else {
      // Did not pay off: spinning may be stealing the core from the thread we wait for.
      this.budget = Math.max(this.floor, this.budget >> 2);
    }
    return false;
  }
}

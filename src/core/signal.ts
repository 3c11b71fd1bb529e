/**
 * shm-signals: the TypeScript halves of assembly/signal.ts, where the protocol is
 * written down once (steps 1-3 for the signaler, a-e for the waiter).
 *
 * {@link Notifier} is the signaling side (after publishing data). {@link Waiter} is the
 * waiting side: it disables notification while draining, re-enables and re-checks, then
 * spins for a while and finally parks: `Atomics.wait` in a worker ({@link Waiter.waitSync}),
 * `Atomics.waitAsync` on the host ({@link Waiter.waitAsync}), which never blocks an event
 * loop. Parking happens in JavaScript, not wasm, because of the Node 20 Liftoff bug with
 * locals that live across memory.atomic.wait32 (V8 11.3's Liftoff corrupts them; fixed in
 * Node 22).
 *
 * Whether and how long to spin is decided by {@link AdaptiveSpin} (src/core/adaptive-spin.ts):
 * only with a lease from the process's spin gate (fewer spinners than cores), only while
 * the peer named in the policy is running, and for a budget learnt from outcomes.
 */
import {
  SIG_BYTES, SIG_OFF_ENABLED, SIG_OFF_PENDING, SIG_OFF_SLEEPING, SIG_OFF_RAISED,
  SIG_OFF_SUPPRESSED, SIG_OFF_NOTIFIES, SIG_OFF_MAGIC, SIG_OFF_VERSION, SIG_MAGIC, SIG_VERSION,
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

/**
 * Host: re-verifies the identity (magic, version) of a signal it owns and rewrites it
 * when a guest overwrote it, so attaching to the signal keeps working. Returns true when
 * it had to. Ordering: the version is a plain store before the magic's Atomics.store, so
 * an attacher that sees the magic (its Atomics.load) also sees the version.
 */
export function restoreSignal(bus: BusMemory, offset: number): boolean {
  const u32 = bus.u32;
  if (Atomics.load(u32, (offset + SIG_OFF_MAGIC) >> 2) === SIG_MAGIC && u32[(offset + SIG_OFF_VERSION) >> 2] === SIG_VERSION) return false;
  u32[(offset + SIG_OFF_VERSION) >> 2] = SIG_VERSION;
  Atomics.store(u32, (offset + SIG_OFF_MAGIC) >> 2, SIG_MAGIC);
  return true;
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

/**
 * Wakes whoever waits on the signal at `offset` (a loop that must notice a stop or a
 * close): PENDING = 1, then notify. The store makes a waiter that has not parked yet
 * return at once from its next wait instead of sleeping through the notify; the waiter's
 * loop re-checks its own state (stopped / closed) after every wait, so the extra wake-up
 * is harmless. This is the only place outside the core that writes PENDING.
 */
export function wakeSignal(bus: BusMemory, offset: number): void {
  const idx = (offset + SIG_OFF_PENDING) >> 2;
  Atomics.store(bus.i32, idx, 1); // before notify: a waiter checking PENDING from now on does not park
  Atomics.notify(bus.i32, idx);
}

/** A re-check of the waiter's data source (step c): true when work is there. May do the work. */
export type Recheck = () => boolean;

/**
 * The waiting side: the consumer half of the shm-signal protocol. One thread at a time.
 *
 * THE PROTOCOL (signaler half in assembly/signal.ts, sig_raise):
 *
 *   signaler, after publishing data (a ring's TAIL, a request's STATE):
 *     1. ENABLED == 0: the waiter is draining and will see the data -> suppressed
 *     2. xchg(PENDING, 1) != 0: a wake-up is already on its way     -> suppressed
 *     3. raised; SLEEPING != 0: Atomics.notify(PENDING)
 *
 *   waiter (this class; serveSync / serveAsync run the whole cycle):
 *     a. disable(): ENABLED = 0, PENDING = 0; then drain everything
 *     b. enable(recheck): ENABLED = 1, then
 *     c. re-check the data source. Data published between (a) and (b) saw ENABLED == 0
 *        and was suppressed: without this check it would sit unseen until the next
 *        signal. enable() returns true when the re-check found work (notification is
 *        then off again: go back to draining), like virtio's enable_notification.
 *     d. spin a while on PENDING != 0 (budget: AdaptiveSpin)
 *     e. park: SLEEPING = 1; wait while PENDING == 0 (with a deadline); SLEEPING = 0
 *
 * Why no wake-up is lost: the signaler does  store(data); load(ENABLED)  and the waiter
 * does  store(ENABLED); load(data)  (b, c). All four are sequentially consistent
 * atomics, so at least one side sees the other's store: the signaler sees ENABLED == 1
 * and raises, or the re-check finds the data. The same pairing,
 * xchg(PENDING); load(SLEEPING)  against  store(SLEEPING); load(PENDING)  inside
 * Atomics.wait, makes sure a waiter about to park is notified.
 *
 * Why every park has a deadline: every word here is in guest-writable memory. A peer
 * that leaves PENDING = 1 (no notify) makes every later raise "already pending"; one
 * that clears SLEEPING makes raises skip the notify; one that zeroes ENABLED makes them
 * all "suppressed". None of that can be prevented, so a waiter never trusts the words
 * for progress: it parks for at most a slice and then sweeps its data source anyway.
 * A hostile peer can cost the waiter's own bus latency, never progress.
 */
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

  /**
   * Steps b-c: asks to be notified, then re-checks with `recheck` (if given). Returns
   * true when the re-check found work; notification is then disabled again (step a),
   * so the caller drains and comes back. Returns false when it is safe to wait.
   */
  enable(recheck?: Recheck): boolean {
    this.bus.core.sig_enable(this.offset); // ENABLED = 1 before the re-check's loads (seq-cst pair with sig_raise)
    if (recheck === undefined || !recheck()) return false;
    this.bus.core.sig_disable(this.offset);
    return true;
  }

  /** Step a: stop notifications and consume a pending wake-up; drain after this. */
  disable(): void { this.bus.core.sig_disable(this.offset); }

  /** Wakes this waiter from another context (a stop or close): see wakeSignal. */
  wake(): void { wakeSignal(this.bus, this.offset); }

  /** Whether a wake-up is pending now. */
  get pending(): boolean { return Atomics.load(this.bus.i32, this.pendingIdx) !== 0; }

  /**
   * Polls PENDING up to `n` times in the core (a wasm loop of atomic loads, far cheaper
   * per poll than Atomics.load from JavaScript on a wasm memory, which the engine does
   * not inline). Returns the polls left when it was set (> 0), or 0.
   */
  get pollPending(): (n: number) => number { return this.poll; }

  /** Whether notification is enabled now. */
  get enabled(): boolean { return Atomics.load(this.bus.i32, this.enabledIdx) !== 0; }

  /**
   * Steps d-e in a worker: spin (adaptively), then park with Atomics.wait until a
   * wake-up is pending or `timeoutMs` passes. Call after enable() found nothing. Does
   * not clear PENDING: call disable() before draining.
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
   *
   * The deadline is not Atomics.waitAsync's own timeout: an engine arms (and cancels) a
   * delayed task for every wait that has one, which costs a busy host a few system calls
   * per park. Instead one timer per waiter, armed by the first park and re-armed only
   * when it fires during a later park, ends a park that lasted `timeoutMs` by notifying
   * the PENDING word itself (no store: a wake-up is not faked, the park just ends) and
   * marks the result 'timed-out'. Every park still ends by its deadline.
   */
  async waitAsync(timeoutMs = Infinity): Promise<WaitResult> {
    if (this.spin.spin(this.poll)) return 'ok';
    const i32 = this.bus.i32;
    Atomics.store(i32, this.sleepingIdx, 1); // before waitAsync's PENDING check (pairs with sig_raise)
    const w = Atomics.waitAsync(i32, this.pendingIdx, 0);
    if (!w.async) { Atomics.store(i32, this.sleepingIdx, 0); return 'ok'; } // a wake-up was pending
    if (timeoutMs !== Infinity) this.armDeadline(timeoutMs);
    await w.value;
    this.parkEndsAt = 0; // no park in progress: a deadline firing now ends nothing
    Atomics.store(i32, this.sleepingIdx, 0); // awake: signalers may skip notify again
    if (!this.deadlineHit) return 'ok';
    this.deadlineHit = false;
    return 'timed-out';
  }

  /**
   * Drops the deadline timer a park left armed (it would fire once more and find nothing
   * to end). A loop that stops parking calls it so no timer outlives it.
   */
  releaseDeadline(): void {
    if (this.deadlineTimer !== null) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = null;
    this.deadlineHit = false;
  }

  /** performance.now() until which the async park in progress may last; 0: none in progress. */
  private parkEndsAt = 0;
  /** When the armed timer fires (performance.now()), and the timer. */
  private timerAt = 0;
  private deadlineTimer: ReturnType<typeof setTimeout> | null = null;
  /** Set by the timer when it ended the park in progress. */
  private deadlineHit = false;

  private armDeadline(timeoutMs: number): void {
    const now = performance.now();
    this.parkEndsAt = now + timeoutMs;
    this.deadlineHit = false;
    if (this.deadlineTimer !== null) {
      if (this.timerAt <= this.parkEndsAt) return; // fires in time: it re-arms for what is left
      clearTimeout(this.deadlineTimer); // armed for a longer deadline than this park's
    }
    this.startTimer(timeoutMs);
  }

  private startTimer(ms: number): void {
    this.timerAt = performance.now() + ms;
    const t = setTimeout(this.onDeadline, ms);
    (t as { unref?: () => void }).unref?.(); // like a parked Atomics.waitAsync, it keeps no process alive
    this.deadlineTimer = t;
  }

  private readonly onDeadline = (): void => {
    this.deadlineTimer = null;
    if (this.parkEndsAt === 0) return; // not parked: the next park arms a timer again
    const left = this.parkEndsAt - performance.now();
    if (left > 1) { this.startTimer(left); return; } // a later park than the one that armed it
    this.deadlineHit = true;
    this.parkEndsAt = 0;
    Atomics.notify(this.bus.i32, this.pendingIdx); // ends the park; PENDING is left as it is
  };

  /**
   * One wait for a condition, in a worker: steps b-e around `attempt` (which tries the
   * thing waited for, e.g. a push into a full ring, and returns true when it got
   * through). Returns 'ready' when the re-check got through (no wait), else the result
   * of the park. Notification is off again on return, whatever happened.
   */
  parkSync(attempt: Recheck, timeoutMs: number): WaitResult | 'ready' {
    if (this.enable(attempt)) return 'ready';
    const r = this.waitSync(timeoutMs);
    this.disable();
    return r;
  }

  /** parkSync on an event loop (Atomics.waitAsync). */
  async parkAsync(attempt: Recheck, timeoutMs: number): Promise<WaitResult | 'ready'> {
    if (this.enable(attempt)) return 'ready';
    const r = await this.waitAsync(timeoutMs);
    this.disable();
    return r;
  }
}

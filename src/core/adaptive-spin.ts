/**
 * Spin-then-park: when a waiter spins, and for how long.
 *
 * Spinning pays only while the thread we wait for is running on another core: then our
 * event comes within a microsecond, where parking would cost a wake-up (13-70 us on the
 * VMs measured so far, and different on every machine). It is a loss whenever that
 * thread cannot run — it is parked, or it needs the core we spin on — and it is a loss
 * for everyone when more threads spin than there are cores. So the policy decides from
 * what is true now, never from durations compared with thresholds:
 *
 *  1. Cores. A spin needs a lease from the process-wide {@link SpinGate}, which grants at
 *     most cores - 1 at once (none on one core). No lease: park at once.
 *  2. The peer. The thread we wait for publishes whether it is parked: the SLEEPING word
 *     of the signal *it* waits on (set just before it parks, cleared when it wakes).
 *     - parked, and it owes us nothing: nothing will wake it but us, so park at once;
 *     - parked, but it owes us an answer (`answers`: we just posted a request and rang
 *       it, so it is waking up): spin, since the wake-up is its cost, not ours;
 *     - running: spin;
 *     and while spinning, check the word every {@link CHUNK} polls: a peer that was seen
 *     running and is parked again has gone to sleep without our event, so stop and park.
 *  3. The budget, from outcomes only. A spin that caught its event keeps about four times
 *     what it needed; a spin that ran out halves the budget (down to 0 = park at once); a
 *     spin ended because the peer parked says nothing about spinning and changes nothing.
 *     At 0, every `probeEvery` waits one probe spins up to `probe` polls (default: `max`):
 *     a probe that catches its event restores the budget; each probe that fails doubles
 *     the interval to the next (up to {@link MAX_PROBE_EVERY}), so where spinning never
 *     pays (the peer shares our core) probing costs almost nothing.
 *
 * Why this is right on any machine: (1) bounds the waste to cores - 1 threads, so
 * whatever the waiters do, a core is left for work; (2) spins only when the event can
 * come without another wake-up, i.e. when spinning can beat parking; (3) compares only
 * polls with polls. Budgets are in polls of one atomic load (about a nanosecond each).
 *
 * A hostile guest can write the gate and the peer words it shares. Both only ever turn
 * into "spin" or "park now", and every wait parks on its real condition with its own
 * deadline afterwards: a lie costs latency (a needless park, or a spin of at most
 * `max` polls), never data, isolation or progress.
 */
import { spinGate, type SpinGate } from './spin-gate.js';

/** Where the thread we wait for says whether it is parked (non-zero = parked). */
export interface PeerWord {
  view: Int32Array;
  index: number;
}

export interface SpinPolicy {
  /** Initial spin budget in polls. Default 1024. */
  initial?: number;
  /** Upper bound in polls. Default 65536. */
  max?: number;
  /** Budget of a probe while the budget is 0. Default: `max`. */
  probe?: number;
  /** Probe once every this many waits while the budget is 0 (doubles after each failed probe). Default 32. */
  probeEvery?: number;
  /** Fixed budget, no adaptation (0 = always park at once). Still needs a lease from the gate. */
  fixed?: number;
  /** The peer's parked word (see the policy above). Without it only the gate and the budget decide. */
  peer?: PeerWord;
  /** The peer owes us an answer whenever we wait (a call slot): a parked peer is waking. */
  answers?: boolean;
  /** The gate to lease from. Default: this process's ({@link spinGate}). */
  gate?: SpinGate;
}

/** Polls between two looks at the peer word. */
export const CHUNK = 256;

/** The interval between probes grows to at most this many waits. */
export const MAX_PROBE_EVERY = 4096;

/** How a wait's spin ended (for tests and reports). */
export type SpinOutcome = 'hit' | 'ran-out' | 'peer-parked' | 'no-lease' | 'peer-idle' | 'none';

export class AdaptiveSpin {
  private budget: number;
  private readonly max: number;
  private readonly probeBudget: number;
  private readonly probeBase: number;
  private probeEvery: number;
  private readonly fixed: number | undefined;
  private readonly peer: PeerWord | undefined;
  private readonly answers: boolean;
  private readonly gate: SpinGate | undefined;
  private sinceProbe = 0;
  private probing = false;
  private lease = 0;
  /** Waits that ended while spinning. */
  hits = 0;
  /** Waits that had to park. */
  misses = 0;
  /** How the last wait's spin ended. */
  last: SpinOutcome = 'none';

  constructor(policy: SpinPolicy = {}) {
    this.max = Math.max(0, policy.max ?? 65536);
    this.budget = Math.min(Math.max(0, policy.initial ?? 1024), this.max);
    this.probeBudget = Math.min(policy.probe ?? this.max, this.max);
    this.probeBase = Math.max(1, policy.probeEvery ?? 32);
    this.probeEvery = this.probeBase;
    this.fixed = policy.fixed;
    this.peer = policy.peer;
    this.answers = policy.answers ?? false;
    // A fixed budget of 0 never spins, so it needs no gate (nor a process buffer).
    this.gate = policy.fixed === 0 ? undefined : policy.gate ?? spinGate();
  }

  private peerParked(): boolean {
    const p = this.peer;
    return p !== undefined && Atomics.load(p.view, p.index) !== 0; // a hint only (see the header)
  }

  /**
   * The budget for the next wait (0 = park at once), holding a gate lease when > 0.
   * The caller spins at most that many polls and then calls {@link record}, which gives
   * the lease back. Prefer {@link spin}, which does all three.
   */
  next(): number {
    if (this.lease !== 0) this.release(); // a caller that skipped record(): never hold two
    this.probing = false;
    let want: number;
    if (this.fixed !== undefined) want = this.fixed;
    else if (this.budget > 0) want = this.budget;
    else if (++this.sinceProbe >= this.probeEvery) { this.sinceProbe = 0; this.probing = true; want = this.probeBudget; }
    else want = 0;
    if (want <= 0) { this.last = 'none'; return 0; }
    if (!this.answers && this.peerParked()) { this.last = 'peer-idle'; this.probing = false; return 0; }
    this.lease = this.gate ? this.gate.enter() : 0;
    if (this.lease === 0) { this.last = 'no-lease'; this.probing = false; return 0; }
    return want;
  }

  /**
   * Reports how the wait went and gives the lease back: `left` polls remained when the
   * event arrived (0 = it did not come while spinning). `parkedUs` is accepted for old
   * callers and ignored: park durations are not evidence here (see the header).
   */
  record(budget: number, left: number, _parkedUs?: number): void {
    this.settle(budget, left, false);
  }

  /**
   * One spin: takes the budget and a lease, polls `poll(n)` in chunks — it polls its
   * condition up to `n` times and returns the polls left when the condition held (> 0),
   * or 0 — watching the peer between chunks, then records and gives the lease back.
   * Returns true when the condition held while spinning (the caller need not park).
   */
  spin(poll: (n: number) => number): boolean {
    const budget = this.next();
    if (budget === 0) { this.misses++; return false; }
    let left = budget;
    let seenRunning = false;
    let peerLeft = false;
    try {
      while (left > 0) {
        const n = left < CHUNK ? left : CHUNK;
        const r = poll(n);
        if (r > 0) { left = left - n + r; break; }
        left -= n;
        if (this.peer) {
          if (!this.peerParked()) seenRunning = true;
          else if (seenRunning || !this.answers) { peerLeft = true; break; } // it went to sleep without our event
        }
      }
      if (peerLeft) left = 0;
      else if (left <= 0) left = 0;
    } finally {
      this.settle(budget, left, peerLeft);
    }
    return left > 0;
  }

  private settle(budget: number, left: number, peerLeft: boolean): void {
    this.release();
    if (left > 0) { this.hits++; this.last = 'hit'; } else this.misses++;
    if (this.fixed !== undefined || budget <= 0) return;
    if (left > 0) {
      const used = budget - left + 1;
      this.budget = Math.min(this.max, Math.max(this.budget, used * 4));
      this.probeEvery = this.probeBase;
    } else if (peerLeft) {
      this.last = 'peer-parked'; // the peer went idle: no evidence either way
    } else {
      this.last = 'ran-out';
      if (this.probing) this.probeEvery = Math.min(MAX_PROBE_EVERY, this.probeEvery * 2);
      else this.budget >>= 1;
    }
    this.probing = false;
  }

  private release(): void {
    if (this.lease !== 0) { this.gate?.leave(this.lease); this.lease = 0; }
  }

  /** Current budget (for reports and tests). */
  get current(): number { return this.fixed ?? this.budget; }
}

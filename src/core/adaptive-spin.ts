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
 *  1. Cores. A spin longer than {@link HANDOFF} polls needs a lease from the
 *     process-wide {@link SpinGate}, which grants at most cores - 1 at once (none on one
 *     core). The first HANDOFF polls (the free window: about a microsecond, far less than
 *     a wake-up) go without one, and a waiter refused after them parks at once. The
 *     window is the one exception to the cap, and it is what lets two threads that answer
 *     each other (a guest and its server) spin without touching the gate at all: each
 *     one's event mostly comes within it, and then no lease is taken, given back or
 *     refused. (Asking first cost every call about three atomic writes to the gate's one
 *     cache line, from both cores in turn.) When the event takes longer, the thread that
 *     holds the lease is usually the one our own raise has just sent to work, and it has
 *     given the lease back by the time our window ends. The window is only for a peer
 *     that runs now (see point 2): a parked peer is at best waking up, which takes far
 *     longer than the window, and on our own core it cannot run while we poll (with the
 *     window there too, one core's ping-pong measured 1.19x a plain Atomics.wait, against
 *     1.00x without). On one core there is no gate to wait for and no window.
 *     And a lease is held only while nobody else wants one: the spin looks at the gate's
 *     refusal counter every {@link CHUNK} polls, and once it moved (another thread of the
 *     process was refused a lease: it is running, and wants a core as much as we do),
 *     the spin polls its condition once more and, if the event is not there, ends and
 *     parks. With many busy threads the one lease therefore never keeps a core from the
 *     threads that would make progress on it (a spinner holding it for whole
 *     microseconds while 63 guests waited to run was most of the CPU time at 64 busy
 *     guests). The extra poll is what keeps two threads that answer each other spinning:
 *     a thread raises its event before it asks for a lease (a guest posts its call and
 *     rings, then waits for the reply; a server stores DONE, then waits for the next
 *     call), so the spinner that sees its refusal and then polls sees the event
 *     (seq-cst: the raise precedes the refusal's Atomics.add in the raiser's program
 *     order, and our load of the counter precedes our poll).
 *  2. The peer. The thread we wait for publishes whether it is parked: the SLEEPING word
 *     of the signal *it* waits on (set just before it parks, cleared when it wakes).
 *     - parked, and it owes us nothing: nothing will wake it but us, so park at once;
 *     - parked, but it owes us an answer (`answers`: we just posted a request and rang
 *       it, so it is waking up): spin, since the wake-up is its cost, not ours;
 *     - running: spin;
 *     and while spinning, check the word every {@link CHUNK} polls: a peer that was seen
 *     running and is parked again has gone to sleep without our event, so stop and park.
 *  3. The budget, from outcomes only. A spin that caught its event keeps about four times
 *     what it needed (up to `max`). A spin that ran out, or gave its core up, halves it
 *     (down to 0 = park at once). A running peer is not taken as a sign that the answer
 *     is near: a server of many buses runs for others while our request waits its turn
 *     (doubling the budget whenever the peer was seen running made every guest of a busy
 *     host spin its whole `max`, for nothing). Only caught events make the budget grow,
 *     and the probes below find out when spinning pays again. A spin ended because the
 *     peer parked says nothing about spinning and changes nothing.
 *     At 0, one probe spins up to `probe` polls (default: `max`) every `probeEvery`
 *     waits: a probe that catches its event restores the budget. A probe that fails
 *     delays the next until {@link PROBE_SPACING} times its own duration has passed, so
 *     where spinning never pays (the peer shares our core) probes take at most about
 *     1/PROBE_SPACING of the time, on any machine, and where a passing disturbance (a
 *     burst of other threads at start-up, say) made spinning fail for a while, the
 *     budget comes back within milliseconds. (Doubling the interval after each failure
 *     instead left a waiter parking for tens of thousands of waits after a burst.)
 *
 * Why this is right on any machine: (1) bounds the waste to cores - 1 threads, so
 * whatever the waiters do, a core is left for work; (2) spins only when the event can
 * come without another wake-up, i.e. when spinning can beat parking; (3) compares only
 * polls with polls. Budgets are in polls of one atomic load (about half a nanosecond each
 * in the core's loops).
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
  /** Initial spin budget in polls. Default 4096. */
  initial?: number;
  /** Upper bound in polls. Default 2^18 (about 130 us of polls in the core: longer than a wake-up on the machines measured, so a probe can find out that spinning pays). */
  max?: number;
  /** Budget of a probe while the budget is 0. Default: `max`. */
  probe?: number;
  /** Probe once every this many waits while the budget is 0 (and not sooner than a failed probe's spacing allows). Default 32. */
  probeEvery?: number;
  /** The clock probes are spaced by, ms (tests give their own). Default performance.now. */
  clock?: () => number;
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

/** Default upper bound of a budget, in polls. */
export const DEFAULT_MAX = 1 << 18;

/** Polls a waiter makes before it asks for a lease: the free window (about a microsecond, far less than a wake-up). */
export const HANDOFF = 2048;

/** A failed probe that took T delays the next probe until PROBE_SPACING * T has passed (probes then cost at most ~1/PROBE_SPACING of the time). */
export const PROBE_SPACING = 64;

/** How a wait's spin ended (for tests and reports). */
export type SpinOutcome = 'hit' | 'ran-out' | 'peer-parked' | 'no-lease' | 'peer-idle' | 'contended' | 'none';

export class AdaptiveSpin {
  private budget: number;
  private readonly max: number;
  private readonly probeBudget: number;
  private readonly probeEvery: number;
  private readonly clock: () => number;
  /** clock() before which no probe starts (set by a failed probe), and when the probe in progress started. */
  private probeNotBefore = 0;
  private probeStarted = 0;
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
    this.max = Math.max(0, policy.max ?? DEFAULT_MAX);
    this.budget = Math.min(Math.max(0, policy.initial ?? 4096), this.max);
    this.probeBudget = Math.min(policy.probe ?? this.max, this.max);
    this.probeEvery = Math.max(1, policy.probeEvery ?? 32);
    this.clock = policy.clock ?? (() => performance.now());
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
   * the lease back. Prefer {@link spin}, which does all three. `floor`: see {@link spin}.
   */
  next(floor = 0): number {
    if (this.lease !== 0) this.release(); // a caller that skipped record(): never hold two
    this.probing = false;
    let want: number;
    if (this.fixed !== undefined) want = this.fixed;
    else if (this.budget > 0 || floor > 0) want = Math.max(this.budget, floor);
    else if (++this.sinceProbe >= this.probeEvery && (this.probeNotBefore === 0 || this.clock() >= this.probeNotBefore)) {
      this.sinceProbe = 0; this.probing = true; want = this.probeBudget; this.probeStarted = this.clock();
    }
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
   * `floor`: spin at least this many polls, whatever the budget says (still with a lease,
   * and still giving it up when somebody else wants a core). A server passes one while a
   * call turn is held (src/core/call-turns.ts): the holder calls back to back, so its next
   * request is near even when the last spin, at a change of holder, ran out. The holder
   * passes one too while others wait for the turn: the server spins on its bus, so its
   * answer is near even when a few came late.
   */
  spin(poll: (n: number) => number, floor = 0): boolean {
    // With a floor (a server while a call turn is held), one look before asking for a
    // lease: a refused request tells the lease's holder to stop spinning, and the holder
    // is then the turn's holder, waiting for the answer to a call that is already there
    // (it posted while this server finished a round). Asking first would send it to park
    // just before its answer came.
    if (floor > 0 && poll(1) > 0) { this.hits++; this.last = 'hit'; return true; }
    // The free window (see the header): the first HANDOFF polls of a spin go without a
    // lease, and a spin whose event comes in them never touches the gate.
    let free = 0;
    if (this.freeWindow(floor)) {
      const want = this.fixed ?? Math.max(this.budget, floor);
      free = Math.min(HANDOFF, want);
      const r = poll(free);
      if (r > 0) { this.settle(want, want - free + r, false); return true; }
      if (free >= want) { this.settle(want, 0, false); return false; } // the whole budget was spent in it
    }
    const budget = this.next(floor);
    if (budget === 0) { this.misses++; return false; } // parks at once, or no lease after the free window
    let left = budget - free;
    let seenRunning = this.peer !== undefined && !this.peerParked();
    let peerLeft = false;
    let contended = false;
    const refusals = this.gate ? this.gate.refusals() : 0;
    try {
      while (left > 0) {
        const n = left < CHUNK ? left : CHUNK;
        const r = poll(n);
        if (r > 0) { left = left - n + r; break; }
        left -= n;
        if (this.gate && this.gate.refusals() !== refusals) {
          // Somebody else wants a core: one more look (a peer that raised before it was
          // refused is seen now), then give the core up.
          const again = poll(1);
          if (again > 0) { left = Math.max(1, left); break; }
          contended = true;
          break;
        }
        if (this.peer) {
          if (!this.peerParked()) seenRunning = true;
          else if (seenRunning || !this.answers) { peerLeft = true; break; } // it went to sleep without our event
        }
      }
      if (peerLeft || contended) left = 0;
      else if (left <= 0) left = 0;
    } finally {
      this.settle(budget, left, peerLeft);
      if (contended) this.last = 'contended';
    }
    return left > 0;
  }

  /**
   * Whether this wait starts with the free window: it means to spin (a budget, a floor or
   * a fixed budget; a probe takes its lease first, as ever), more than one core exists,
   * and the peer, if it publishes its state, is running now. A peer still parked is at
   * best waking up (our raise woke it), which takes far longer than the window; and on
   * the same core it cannot run while we poll. Such a wait spins with a lease, as before.
   */
  private freeWindow(floor: number): boolean {
    const gate = this.gate;
    if (!gate || gate.capacity === 0) return false;
    if (this.fixed !== undefined ? this.fixed <= 0 : this.budget <= 0 && floor <= 0) return false;
    return !this.peerParked();
  }

  private settle(budget: number, left: number, peerLeft: boolean): void {
    this.release();
    if (left > 0) { this.hits++; this.last = 'hit'; } else this.misses++;
    if (this.fixed !== undefined || budget <= 0) return;
    if (left > 0) {
      const used = budget - left + 1;
      this.budget = Math.min(this.max, Math.max(this.budget, used * 4));
      this.probeNotBefore = 0;
    } else if (peerLeft) {
      this.last = 'peer-parked'; // the peer went idle: no evidence either way
    } else {
      this.last = 'ran-out';
      if (this.probing) { const now = this.clock(); this.probeNotBefore = now + PROBE_SPACING * Math.max(0, now - this.probeStarted); }
      else this.budget >>= 1;
    }
    this.probing = false;
  }

  private release(): void {
    if (this.lease !== 0) { this.gate?.leave(this.lease); this.lease = 0; }
  }

  /** Whether this waiter holds a gate lease now (while it spins). */
  get leased(): boolean { return this.lease !== 0; }

  /** Current budget (for reports and tests). */
  get current(): number { return this.fixed ?? this.budget; }
}

/**
 * One serve loop for many buses on the host thread. With N buses busy, one wake-up
 * serves every pending request of every bus, in a rotating order, instead of N loops
 * each paying its own Atomics.waitAsync wake-up.
 *
 * The cycle is the serve loop's (src/core/serve-loop.ts), over the members that have work:
 *   a. the round takes every member whose wait ended or whose re-check found more
 *      (`ready`), and every member with no outstanding wait whose PENDING word is set
 *      (one load each); it disables their doorbells (their guests' raises are suppressed
 *      from now on: this loop will look anyway) and drains them, starting one further on
 *      each round so no bus is always served first;
 *   b-c. enables those doorbells with their re-checks (pending bits); any that found
 *      work is in the next round;
 *   d. one spin for the whole group (one budget, not one per bus) over the PENDING words
 *      of the members just served;
 *   e. parks on every doorbell at once (one outstanding Atomics.waitAsync per member,
 *      kept across rounds, never stacked) until any fires or its slice ends.
 * Why a member with an outstanding wait need not be loaded each round: its doorbell is
 * enabled (every drained doorbell is enabled again before the round ends, or stays in
 * `ready`) and its SLEEPING word is 1 (set by the wait, cleared when it ends), so a raise
 * notifies it (sig_raise: xchg PENDING, then load ENABLED and SLEEPING, all seq-cst) and
 * the wait's end puts it in `ready`. Only a member without one (served since its last
 * wait) can be raised silently, and those are the ones loaded. A PENDING load on another
 * bus's memory costs tens of nanoseconds (another mapping), so with 64 idle buses a call
 * on one of them is served at the cost of one, not 64. After each yield to the event
 * loop every member is loaded once more (a guest may have cleared its own SLEEPING or
 * ENABLED word to stay silent: that costs its own bus latency, until this scan or the
 * sweep), and every member is swept at least once a slice (`sliceMs`).
 *
 * Call turns (src/core/call-turns.ts): while a guest holds the process's call turn and
 * uses it, its next call is near, so the spin of step d lasts at least {@link TURN_SPIN}
 * and also watches the holder's bus (the key the holder publishes, mapped to a member
 * here; an unknown key is ignored; a pass publishes the next holder's key before it
 * wakes that guest, and the spin looks the key up again every chunk), and a spin that
 * found nothing looks at every member's PENDING word once before the loop parks: at a
 * change of holder the next call comes on another bus, and the loop would otherwise learn
 * of it only from that bus's wait, an event-loop turn later.
 *
 * The host runs one group for all its buses; each backend pool thread runs one for all
 * its devices (src/connector/backend/pool-thread.ts).
 *
 * Trust: each member's words are in its own bus memory, written by its own guests. A
 * hostile guest can keep its doorbell raised (the loop then runs round after round, and
 * gives the event loop a full turn at least every `yieldMs`) or never raise it (its own
 * bus waits for the sweep); either way it costs the other buses latency, never progress.
 */
import { AdaptiveSpin, type SpinPolicy } from '../core/adaptive-spin.js';
import { macrotask } from '../core/macrotask.js';
import { turnHeld, turnHolder } from '../core/call-turns.js';
import type { Waiter } from '../core/signal.js';
import { vbusError } from '../errors.js';

/** What the group needs of one endpoint. */
export interface GroupMember {
  /** The doorbell's waiter (created with no spin of its own: the group spins). */
  readonly waiter: Waiter;
  /** Serves what the pending bits name; returns the requests served. */
  drain(): number;
  /** The re-check: does anything wait that the drain has not seen? */
  anyPending(): boolean;
  /** Once a slice: look deeper for hidden work (the member is drained right after). */
  sweep(): void;
  /** The key its guests publish while they hold the call turn (src/core/call-turns.ts), if any. */
  readonly turnKey?: number;
}

export interface ServeGroupOptions {
  /** How often every member is swept (looked at in depth, doorbell or not), ms; also the longest park. Default 100. */
  sliceMs?: number;
  /** The group's spin before it parks (runs on the event loop: keep small). */
  spin?: SpinPolicy;
  /** Give the event loop a full turn every this many rounds. Default: no count, only `yieldMs`. */
  yieldEvery?: number;
  /**
   * Give the event loop a full turn once the loop has run this long without one, ms
   * (a park is one). Default 1: timers, messages and the models' promises wait at most
   * about that long behind a busy loop. (A turn every 32 rounds cost a few microseconds
   * each 32 calls, on the path every call waits for; the loop still takes one every
   * WATCHED_YIELD_ROUNDS rounds while some member's wait is out.)
   */
  yieldMs?: number;
  /**
   * The least spin, in polls, while a call turn is held and in use (see {@link TURN_SPIN}).
   * Default TURN_SPIN, or the spin's `max` when that is larger.
   */
  turnSpin?: number;
}

/**
 * The group's spin unless told otherwise: polls of the core (~0.5 ns each), so at most
 * ~33 us of the event loop before a park; enough to catch a guest that was answered and
 * is about to call again, short enough that timers and messages are not held up.
 */
export const GROUP_SPIN = { initial: 4096, max: 1 << 16 } as const;

/**
 * The group's least spin while a call turn is held and in use, polls (~130 us). A turn's
 * holder calls again within microseconds, but at a change of holder the next call comes
 * only once the next holder has woken up: one futex wake-up of a parked thread, 13-70 us
 * at the median on the VMs measured and hundreds in the tail. A spin that ends before
 * that parks the loop, and the new holder's first call then waits for a wake-up of this
 * event loop too, the slowest there is. So the spin must outlast a thread's wake-up, not
 * a call's service time (the group's `max`, ~33 us, did not: at 256 busy guests the loop
 * parked about once a turn). It is still cut short when another thread of the process
 * wants the core (the lease's rule, src/core/adaptive-spin.ts), and it runs only while
 * turnHeld() says yes: a holder that used its turn in the last few milliseconds, with
 * others in line. Measured at 256 busy guests on the 2-vCPU VM, four runs of each in
 * turn with the old floor: 174, 176, 153, 130 k against 128, 137, 131, 145 k calls/s
 * (about 1.2x at the median, near the noise), and a lower p99 in every run.
 */
export const TURN_SPIN = 1 << 18;

/** Rounds between two event-loop turns while some member's wait is out (see run). */
export const WATCHED_YIELD_ROUNDS = 32;

const NO_MEMBERS: readonly GroupMember[] = [];

export class ServeGroup {
  /** The members, in the order they joined. */
  private readonly members = new Set<GroupMember>();
  /** Members with no outstanding wait: a raise may not notify them, so each round loads their PENDING word. */
  private readonly unwatched = new Set<GroupMember>();
  private readonly waits = new Map<GroupMember, Promise<void>>();
  /** Members to serve in the next round (their wait ended, or the re-check found more). */
  private readonly ready = new Set<GroupMember>();
  /** Resolves the loop's current park, if it is parked. */
  private wakeLoop: (() => void) | null = null;
  private readonly spin: AdaptiveSpin;
  private readonly sliceMs: number;
  private readonly yieldEvery: number;
  private readonly yieldMs: number;
  private running: Promise<void> | null = null;
  /** Members by their turn key (to spin on the bus of the call turn's holder). */
  private readonly byTurnKey = new Map<number, GroupMember>();
  private first = 0;
  /** The members the current spin watches (spinAll sets it; the two polls below read it). */
  private spinList: readonly GroupMember[] = NO_MEMBERS;
  // The spin's polls, made once: a closure per round was an allocation per call served.
  private readonly pollList = (n: number): number => this.pollEach(this.spinList, n);
  private readonly pollTurn = (n: number): number => {
    const served = this.spinList;
    const h = this.byTurnKey.get(turnHolder());
    if (h === undefined || served.includes(h)) return this.pollEach(served, n);
    const half = (n >> 1) || 1;
    if (h.waiter.pollPending(half) > 0) return n;
    return this.pollEach(served, n - half);
  };
  /** Rounds run, rounds that served something, parks taken (for stats and tests). */
  readonly stats = { rounds: 0, busyRounds: 0, parks: 0 };

  constructor(opts: ServeGroupOptions = {}) {
    this.sliceMs = opts.sliceMs ?? 100;
    this.yieldEvery = opts.yieldEvery ?? Infinity;
    this.yieldMs = opts.yieldMs ?? 1;
    this.spin = new AdaptiveSpin(opts.spin ?? GROUP_SPIN);
    const turnSpin = opts.turnSpin ?? Math.max(TURN_SPIN, opts.spin?.max ?? GROUP_SPIN.max);
    if (!(turnSpin >= 0) || !Number.isFinite(turnSpin)) throw vbusError('EINVAL', `turnSpin must be a finite number of polls >= 0, got ${turnSpin}`);
    this.turnFloor = turnSpin;
  }

  /** Set by the slice's timer: sweep every member in the next round. */
  private sweepDue = false;

  /** The least spin while a call turn is held (`turnSpin`). */
  private readonly turnFloor: number;

  get size(): number { return this.members.size; }

  /** Starts serving `m` (and the loop, if it is not running). */
  add(m: GroupMember): void {
    if (this.members.has(m)) return;
    this.members.add(m);
    this.unwatched.add(m);
    if (m.turnKey) this.byTurnKey.set(m.turnKey, m);
    // A parked loop picks the newcomer up at once. (Its doorbell cannot wake the loop:
    // the loop waits only on the doorbells it had when it parked.)
    this.ended(m);
    this.running ??= this.run().finally(() => { this.running = null; });
  }

  /** Stops serving `m`; resolves once the loop no longer touches it. */
  async remove(m: GroupMember): Promise<void> {
    if (!this.members.delete(m)) return;
    this.unwatched.delete(m);
    this.ready.delete(m);
    if (m.turnKey && this.byTurnKey.get(m.turnKey) === m) this.byTurnKey.delete(m.turnKey);
    m.waiter.wake(); // its outstanding wait resolves and is dropped
    // A loop parked (or about to park) with this as its last member must see that it has
    // none left and end; otherwise it would park on no doorbell at all, for ever.
    this.wakeLoop?.();
    await this.waits.get(m);
    if (this.members.size === 0 && this.running) await this.running;
  }

  private async run(): Promise<void> {
    // The slice's one timer: once a slice it asks for a sweep of every member and ends a
    // park. One timer for the group, not a deadline on each member's wait: with 256 idle
    // buses those were 2560 timer callbacks a second on the host's event loop, each also
    // ending a wait and serving a bus that had nothing. (The loop takes an event-loop
    // turn at least every `yieldMs`, so the timer runs on time while the loop is busy
    // too.) Unref'd, as a parked Atomics.waitAsync: it keeps no process alive.
    const slice = Number.isFinite(this.sliceMs) ? setInterval(() => { this.sweepDue = true; this.wakeLoop?.(); }, Math.min(this.sliceMs, 2 ** 31 - 1)) : null;
    (slice as { unref?: () => void } | null)?.unref?.();
    try {
      await this.serve();
    } finally {
      if (slice !== null) clearInterval(slice);
      this.ready.clear();
    }
  }

  private async serve(): Promise<void> {
    let rounds = 0;
    let lastYield = performance.now();
    let yieldDue = false;
    let parked = false;
    while (this.members.size > 0) {
      // The round's members: those whose wait ended or that had more at the last
      // re-check (ready), and every member that may have been raised silently (no wait
      // out; after a yield, every member). One load each; the rest is per member served.
      for (const m of rounds === 0 ? this.members : this.unwatched) if (m.waiter.pending) this.ready.add(m);
      const list = [...this.ready];
      this.ready.clear();
      const n = list.length;
      let served = 0;
      if (n > 0) {
        const start = this.first++ % n;
        for (const m of list) m.waiter.disable(); // step a
        for (let k = 0; k < n; k++) served += list[(start + k) % n]!.drain();
        for (const m of list) if (m.waiter.enable(() => m.anyPending())) this.ready.add(m); // steps b-c
      }
      this.stats.rounds++;
      if (served > 0) this.stats.busyRounds++;
      // Once a slice (the slice's timer asks) every member is swept and then drained,
      // whether its doorbell rang or not: a guest that silenced its own doorbell is served
      // at least that often.
      if (this.sweepDue) { this.sweepDue = false; for (const m of this.members) { m.sweep(); this.ready.add(m); } }
      // The clock is read every 16th round and after each park (rounds are short).
      if ((this.stats.rounds & 15) === 0 || parked) {
        const now = performance.now();
        if (parked) lastYield = now; // a park went through the event loop
        parked = false;
        if (now - lastYield >= this.yieldMs) yieldDue = true;
      }
      let more = this.ready.size > 0;
      // Step d, on the doorbells of this round's members (where the next request most
      // likely comes: a guest answered is about to call again); the whole budget goes
      // to them instead of being spread over every idle bus.
      if (!more) {
        const turn = turnHeld(); // once per round: while others wait for the turn it reads the clock
        more = this.spinAll(n > 0 ? list : [...this.members], turn);
        // The spin watched the buses just served. While a call turn is held, a spin that
        // found nothing usually ended because the turn moved to a guest of another bus,
        // whose doorbell this loop would otherwise hear of only through its wait's
        // promise (an event-loop turn later): look at every member once (one load each).
        if (!more && turn) { for (const m of this.members) if (m.waiter.pending) this.ready.add(m); more = this.ready.size > 0; }
      }
      // While some member's wait is out, its end (a raise that notified it) reaches this
      // loop only through the event loop, and that member is not loaded each round: so
      // then a turn every WATCHED_YIELD_ROUNDS rounds too (measured: without it, 4 busy
      // guests taking call turns lost two thirds of their calls per second).
      if (++rounds >= this.yieldEvery || yieldDue || (rounds >= WATCHED_YIELD_ROUNDS && this.waits.size > 0)) {
        rounds = 0;
        yieldDue = false;
        await macrotask();
        lastYield = performance.now();
      }
      if (more) continue;
      // The last member may have left while the loop yielded above: nothing to park on.
      if (this.members.size === 0) break;
      // Step e: one outstanding wait per member, kept across rounds (a member whose wait
      // is still out was raised and its wait will resolve). Each wait reports its end
      // once (ended()); the loop awaits one fresh promise per park. (Not Promise.race over
      // the waits: that adds a reaction to every still-pending wait on every park, and an
      // idle member's wait would collect thousands of them per slice.)
      for (const m of this.members) {
        if (this.waits.has(m)) continue;
        this.unwatched.delete(m); // from here on a raise notifies it (see the header)
        this.waits.set(m, m.waiter.waitAsync().then(() => { // no deadline of its own: the slice's timer ends the park
          this.waits.delete(m);
          if (this.members.has(m)) this.unwatched.add(m);
          this.ended(m);
        }));
      }
      if (this.ready.size === 0) {
        this.stats.parks++;
        await new Promise<void>((resolve) => { this.wakeLoop = resolve; });
        this.wakeLoop = null;
        parked = true;
      }
    }
  }

  /** Member `m`'s wait ended (a raise, or a wake): serve it next round. */
  private ended(m: GroupMember): void {
    if (this.members.has(m)) this.ready.add(m);
    this.wakeLoop?.();
  }

  /**
   * One spin (AdaptiveSpin decides whether and how long) over the doorbells of `served`.
   * True when one was raised. `turn`: a call turn is held and in use (turnHeld).
   */
  private spinAll(served: GroupMember[], turn: boolean): boolean {
    // While a guest holds the call turn its next call is near, also when the turn has just
    // moved to a guest that is still waking up: spin at least TURN_SPIN (a park here
    // costs the next call a wake-up of this event loop, the slowest there is). And watch
    // the holder's bus, looked up again every chunk: a pass names the next holder's bus
    // before it wakes that guest, so the spin is on the right doorbell when its first
    // call comes.
    if (!turn && served.length === 1) return this.spin.spin(served[0]!.waiter.pollPending); // the usual case: one bus just served
    this.spinList = served;
    try {
      return turn ? this.spin.spin(this.pollTurn, this.turnFloor) : this.spin.spin(this.pollList);
    } finally {
      this.spinList = NO_MEMBERS; // hold no members past the spin
    }
  }

  /**
   * Polls each member's doorbell in turn, a few polls at a time (acquire loads: they pair
   * with sig_raise's xchg), `n` polls in all. Returns the polls left (> 0) when one rang.
   */
  private pollEach(list: readonly GroupMember[], n: number): number {
    if (list.length === 0) return 0;
    const each = Math.max(8, Math.floor(n / list.length));
    for (let done = 0; done < n;) {
      for (const m of list) {
        if (m.waiter.pollPending(each) > 0) return Math.max(1, n - done);
        done += each;
      }
    }
    return 0;
  }
}

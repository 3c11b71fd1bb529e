/**
 * One serve loop for many buses on the host thread. With N buses busy, one wake-up
 * serves every pending request of every bus, in a rotating order, instead of N loops
 * each paying its own Atomics.waitAsync wake-up.
 *
 * The cycle is the serve loop's (src/core/serve-loop.ts), over all members at once:
 *   a. disable every member's doorbell (their guests' raises are suppressed from now on:
 *      this loop will look anyway), then drain every member, starting one further on
 *      each round so no bus is always served first;
 *   b-c. enable every doorbell with its re-check (pending bits); any that found work
 *      sends the loop round again;
 *   d. one spin for the whole group over every member's PENDING word (one budget, not
 *      one per bus);
 *   e. park on every doorbell at once (one outstanding Atomics.waitAsync per member,
 *      kept across rounds, never stacked) until any fires, a member joins, or the slice
 *      ends; a slice that ended sweeps every member.
 *
 * The host runs one group for all its buses; each backend pool thread runs one for all
 * its devices (src/connector/backend/pool-thread.ts).
 *
 * Trust: each member's words are in its own bus memory, written by its own guests. A
 * hostile guest can keep its doorbell raised (the loop then runs round after round, and
 * gives the event loop a full turn every `yieldEvery` rounds) or never raise it (its own
 * bus waits for the sweep); either way it costs the other buses latency, never progress.
 */
import { AdaptiveSpin, type SpinPolicy } from '../core/adaptive-spin.js';
import { macrotask } from '../core/macrotask.js';
import type { Waiter, WaitResult } from '../core/signal.js';

/** What the group needs of one endpoint. */
export interface GroupMember {
  /** The doorbell's waiter (created with no spin of its own: the group spins). */
  readonly waiter: Waiter;
  /** Serves what the pending bits name; returns the requests served. */
  drain(): number;
  /** The re-check: does anything wait that the drain has not seen? */
  anyPending(): boolean;
  /** After a park that timed out: look deeper for hidden work. */
  sweep(): void;
}

export interface ServeGroupOptions {
  /** Longest park before every member is swept, ms. Default 100. */
  sliceMs?: number;
  /** The group's spin before it parks (runs on the event loop: keep small). */
  spin?: SpinPolicy;
  /** Give the event loop a full turn every this many rounds. Default 32. */
  yieldEvery?: number;
}

export class ServeGroup {
  private readonly members: GroupMember[] = [];
  private readonly waits = new Map<GroupMember, Promise<[GroupMember, WaitResult]>>();
  private readonly spin: AdaptiveSpin;
  private readonly sliceMs: number;
  private readonly yieldEvery: number;
  private running: Promise<void> | null = null;
  private first = 0;
  /** Resolves the park in progress when a member joins (its doorbell is not in the race yet). */
  private kick: (() => void) | null = null;
  /** Rounds run, rounds that served something, parks taken (for stats and tests). */
  readonly stats = { rounds: 0, busyRounds: 0, parks: 0 };

  constructor(opts: ServeGroupOptions = {}) {
    this.sliceMs = opts.sliceMs ?? 100;
    this.yieldEvery = opts.yieldEvery ?? 32;
    this.spin = new AdaptiveSpin(opts.spin ?? { initial: 256, max: 4096 });
  }

  get size(): number { return this.members.length; }

  /** Starts serving `m` (and the loop, if it is not running). */
  add(m: GroupMember): void {
    if (this.members.includes(m)) return;
    this.members.push(m);
    m.waiter.wake(); // its first round finds it pending
    this.kick?.(); // a parked loop goes round at once and picks the newcomer up
    this.running ??= this.run().finally(() => { this.running = null; });
  }

  /** Stops serving `m`; resolves once the loop no longer touches it. */
  async remove(m: GroupMember): Promise<void> {
    const i = this.members.indexOf(m);
    if (i < 0) return;
    this.members.splice(i, 1);
    m.waiter.wake(); // its outstanding wait resolves and is dropped
    await this.waits.get(m);
    if (this.members.length === 0 && this.running) await this.running;
  }

  private async run(): Promise<void> {
    let rounds = 0;
    while (this.members.length > 0) {
      const list = this.members.slice();
      const n = list.length;
      const start = this.first++ % n;
      for (const m of list) m.waiter.disable(); // step a
      let served = 0;
      for (let k = 0; k < n; k++) served += list[(start + k) % n]!.drain();
      this.stats.rounds++;
      if (served > 0) this.stats.busyRounds++;
      let more = false;
      for (const m of list) if (m.waiter.enable(() => m.anyPending())) more = true; // steps b-c
      if (!more) more = this.spinAll(list); // step d
      if (++rounds >= this.yieldEvery) { rounds = 0; await macrotask(); }
      if (more) continue;
      // Step e: one outstanding wait per member, kept across rounds.
      for (const m of list) {
        if (this.waits.has(m)) continue;
        this.waits.set(m, m.waiter.waitAsync(this.sliceMs).then((r) => { this.waits.delete(m); return [m, r] as [GroupMember, WaitResult]; }));
      }
      this.stats.parks++;
      const joined = new Promise<'joined'>((res) => { this.kick = () => res('joined'); });
      const woke = await Promise.race<[GroupMember, WaitResult] | 'joined'>([...this.waits.values(), joined]);
      this.kick = null;
      if (woke !== 'joined' && woke[1] === 'timed-out') for (const m of this.members) m.sweep();
    }
  }

  /** One spin (AdaptiveSpin decides whether and how long) over every member's doorbell word. True when one was raised. */
  private spinAll(list: GroupMember[]): boolean {
    return this.spin.spin((n) => {
      for (let i = n; i > 0; i -= list.length) {
        for (const m of list) if (m.waiter.pending) return Math.max(1, i); // acquire load: pairs with sig_raise's xchg
      }
      return 0;
    });
  }
}

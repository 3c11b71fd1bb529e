/**
 * Adaptive spin budget for spin-then-park waits.
 *
 * Spinning pays off only when the thread we wait for runs on another core: then the
 * event arrives within a microsecond, while parking costs a cross-core wake-up (35-70 us
 * on this VM). When both threads share a core, every poll steals time from the thread
 * we wait for, and a spin turns a 3 us round trip into hundreds. The policy learns which
 * case it is in from how each wait ended:
 *
 *  - the event came during the spin: keep a budget of about four times what it took;
 *  - it did not, and the park that followed was SHORT (< `sameCoreUs`): the peer could
 *    only run once we stopped spinning, i.e. it shares our core: spin a quarter as long;
 *  - the park was MEDIUM (up to `idleUs`): the event came soon after we gave up, and we
 *    paid a cross-core wake-up for it: spin twice as long next time;
 *  - the park was LONG: the peer was simply idle; that says nothing about spinning.
 *
 * At zero the waiter parks at once and probes with a short spin every `probeEvery`
 * waits, so a change of placement is noticed.
 */
export interface SpinPolicy {
  /** Initial spin budget in polls. Default 1024. */
  initial?: number;
  /** Upper bound in polls (roughly a nanosecond each). Default 65536. */
  max?: number;
  /** Probe budget used when the budget has fallen to zero. Default 256. */
  probe?: number;
  /** Probe once every this many waits while at zero. Default 32. */
  probeEvery?: number;
  /** A park shorter than this (µs) means the peer shares our core. Default 20. */
  sameCoreUs?: number;
  /** A park longer than this (µs) means the peer was idle. Default 2000. */
  idleUs?: number;
  /** Fixed budget, no adaptation (0 = always park at once). */
  fixed?: number;
}

export class AdaptiveSpin {
  private budget: number;
  private readonly max: number;
  private readonly probe: number;
  private readonly probeEvery: number;
  private readonly sameCoreUs: number;
  private readonly idleUs: number;
  private readonly fixed: number | undefined;
  private sinceProbe = 0;
  private probing = false;
  /** Waits that ended while spinning. */
  hits = 0;
  /** Waits that had to park. */
  misses = 0;

  constructor(policy: SpinPolicy = {}) {
    this.max = policy.max ?? 65536;
    this.budget = Math.min(policy.initial ?? 1024, this.max);
    this.probe = Math.min(policy.probe ?? 256, this.max);
    this.probeEvery = policy.probeEvery ?? 32;
    this.sameCoreUs = policy.sameCoreUs ?? 20;
    this.idleUs = policy.idleUs ?? 2000;
    this.fixed = policy.fixed;
  }

  /** The budget for the next wait (0 = park at once). */
  next(): number {
    if (this.fixed !== undefined) return this.fixed;
    this.probing = false;
    if (this.budget === 0 && ++this.sinceProbe >= this.probeEvery) {
      this.sinceProbe = 0;
      this.probing = true;
      return this.probe;
    }
    return this.budget;
  }

  /**
   * Reports how the wait went: `left` polls remained when the event arrived (0 = it did
   * not arrive while spinning), and, if the waiter then parked, how long (µs).
   */
  record(budget: number, left: number, parkedUs?: number): void {
    if (left > 0) this.hits++; else this.misses++;
    if (this.fixed !== undefined) return;
    if (left > 0) {
      const used = budget - left;
      this.budget = Math.min(this.max, Math.max(this.budget, this.probing ? this.probe : 0, used * 4));
      return;
    }
    if (parkedUs === undefined) {
      if (!this.probing) this.budget >>= 2;
    } else if (parkedUs < this.sameCoreUs) {
      this.budget >>= 2; // the peer needed our core: spinning delays it
    } else if (parkedUs <= this.idleUs) {
      this.budget = Math.min(this.max, Math.max(this.probe, this.budget * 2)); // just missed it
    }
    // a long park: the peer was idle; keep the budget
  }

  /** Current budget (for reports and tests). */
  get current(): number { return this.fixed ?? this.budget; }
}

/**
 * Adaptive spin budget for spin-then-park waits.
 *
 * Spinning pays off only when the thread we wait for runs on another core: then a
 * reply arrives within a microsecond and parking (35-70 us to wake on this machine)
 * would be a waste. When both threads share a core, every poll steals time from the
 * thread we wait for, and a spin turns a 3 us round trip into hundreds. So the budget
 * grows while spins succeed (to about four times what the last success needed) and
 * shrinks fast (to a quarter) when they fail; at zero the waiter parks at once and only
 * probes with a short spin every `probeEvery` waits to notice when spinning pays again.
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
  /** Fixed budget, no adaptation (0 = always park at once). */
  fixed?: number;
}

export class AdaptiveSpin {
  private budget: number;
  private readonly max: number;
  private readonly probe: number;
  private readonly probeEvery: number;
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
    this.probe = policy.probe ?? 256;
    this.probeEvery = policy.probeEvery ?? 32;
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

  /** Reports how the wait went: `left` polls remained when the event arrived (0 = it did not). */
  record(budget: number, left: number): void {
    if (left > 0) this.hits++; else this.misses++;
    if (this.fixed !== undefined || budget === 0) return;
    if (left > 0) {
      const used = budget - left;
      if (used > 0) this.budget = Math.min(this.max, Math.max(this.budget, this.probing ? this.probe : 0, used * 4));
    } else if (!this.probing) {
      this.budget = this.budget >> 2;
    }
  }

  /** Current budget (for reports and tests). */
  get current(): number { return this.fixed ?? this.budget; }
}

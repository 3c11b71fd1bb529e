/**
 * A token bucket: `rate` tokens per second, holding at most `rate` (one second of
 * burst). Rate 0 means unlimited. Time is passed in (milliseconds) so tests and the
 * model share one clock.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(private rate: number, now: number) {
    this.tokens = rate;
    this.last = now;
  }

  /** Changes the rate; the bucket keeps what it holds, capped at the new size. */
  setRate(rate: number, now: number): void {
    this.refill(now);
    this.tokens = this.rate === 0 ? rate : Math.min(this.tokens, rate);
    this.rate = rate;
  }

  /** Takes up to `want` tokens; returns how many were granted. */
  take(want: number, now: number): number {
    if (this.rate === 0) return want;
    this.refill(now);
    const k = Math.min(want, Math.floor(this.tokens));
    this.tokens -= k;
    return k;
  }

  private refill(now: number): void {
    const dt = Math.max(0, now - this.last); // a clock that steps back grants nothing
    this.last = now;
    if (this.rate > 0) this.tokens = Math.min(this.rate, this.tokens + (dt * this.rate) / 1000);
  }
}

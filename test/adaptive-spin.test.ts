import { describe, expect, it } from 'vitest';
import { AdaptiveSpin } from '../dist/src/index.js';

// The policy in isolation: each wait reports (budget, polls left when the event came,
// and how long the waiter then parked).
describe('AdaptiveSpin', () => {
  it('keeps about four times what a successful spin needed, bounded by max', () => {
    const s = new AdaptiveSpin({ initial: 100, max: 1000 });
    s.record(s.next(), 100 - 90); // needed 90 polls
    expect(s.current).toBe(360);
    s.record(s.next(), 360 - 350); // needed 350 -> 1400, capped
    expect(s.current).toBe(1000);
    expect(s.hits).toBe(2);
  });

  it('shrinks to zero when parks are short (the peer shares our core), then only probes', () => {
    const s = new AdaptiveSpin({ initial: 4096, probe: 64, probeEvery: 4 });
    for (let i = 0; i < 8; i++) s.record(s.next(), 0, 5);
    expect(s.current).toBe(0);
    const budgets = Array.from({ length: 8 }, () => { const b = s.next(); s.record(b, 0, 5); return b; });
    expect(budgets.filter((b) => b > 0)).toEqual([64, 64]); // one probe every 4 waits
    expect(s.current).toBe(0);
  });

  it('grows when the event came soon after giving up (a cross-core wake-up was paid)', () => {
    const s = new AdaptiveSpin({ initial: 0, probe: 256, max: 8192, probeEvery: 1 });
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) { const b = s.next(); seen.push(b); s.record(b, 0, 60); }
    expect(seen).toEqual([256, 256, 512, 1024, 2048, 4096]);
    expect(s.current).toBe(8192);
  });

  it('leaves the budget alone after a long (idle) park and honours a fixed budget', () => {
    const s = new AdaptiveSpin({ initial: 2048 });
    s.record(s.next(), 0, 50_000);
    expect(s.current).toBe(2048);
    const f = new AdaptiveSpin({ fixed: 0 });
    f.record(f.next(), 0, 60);
    expect(f.next()).toBe(0);
    expect(f.misses).toBe(1);
  });
});

// The spin policy (src/core/adaptive-spin.ts) and its gate (src/core/spin-gate.ts), by
// behaviour: who may spin, when a waiter parks at once, how the budget follows outcomes,
// and what a hostile writer of the shared words can and cannot do.
import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { AdaptiveSpin, SpinGate, STALE_CHECK_EVERY, HANDOFF, BusMemory, Notifier, Waiter, createSignal, spinGate, coreCount } from '../dist/src/internal.js';

function gate(capacity: number): SpinGate {
  return new SpinGate(new Int32Array(new SharedArrayBuffer(64 * 4)), capacity);
}

function peerWord(parked: boolean): { view: Int32Array; index: number } {
  const view = new Int32Array(new SharedArrayBuffer(64));
  view[0] = parked ? 1 : 0;
  return { view, index: 0 };
}

/** A poll that never sees its event, counting the polls it was asked for. */
function never(): { poll: (n: number) => number; polls: () => number } {
  let polls = 0;
  return { poll: (n) => { polls += n; return 0; }, polls: () => polls };
}

/** A poll whose event comes after `after` polls. */
function after(count: number): (n: number) => number {
  let seen = 0;
  return (n) => {
    if (seen + n < count) { seen += n; return 0; }
    const left = n - (count - seen);
    seen = count;
    return Math.max(1, left);
  };
}

describe('the gate: fewer spinners than cores', () => {
  it('the process gate grants at most cores - 1 leases', () => {
    expect(spinGate().capacity).toBe(Math.min(64, coreCount() - 1));
  });

  it('a second waiter gets no lease while the first holds the only one, and parks at once', () => {
    const g = gate(1);
    const a = new AdaptiveSpin({ initial: 100, gate: g });
    const b = new AdaptiveSpin({ initial: 100, gate: g });
    expect(a.next()).toBe(100);
    expect(g.held()).toBe(1);
    expect(b.next()).toBe(0);
    expect(b.last).toBe('no-lease');
    a.record(100, 50);
    expect(g.held()).toBe(0);
    expect(b.next()).toBe(100);
    b.record(100, 0);
    expect(g.held()).toBe(0);
  });

  it('a waiter polls its free window without a lease; refused after it, it parks; a lease given back in it serves the rest', () => {
    const g = gate(1);
    const holder = new AdaptiveSpin({ initial: 100, gate: g });
    expect(holder.next()).toBe(100);
    const w = new AdaptiveSpin({ initial: 4096, gate: g });
    const p = never();
    const refusals = g.refusals();
    expect(w.spin(p.poll)).toBe(false);
    expect(p.polls()).toBe(HANDOFF); // the free window, then one refused ask, then it parked
    expect(g.refusals()).toBe(refusals + 1);
    expect(w.current).toBe(4096); // a refusal is no evidence against spinning
    let calls = 0;
    let polls = 0;
    expect(w.spin((n) => { polls += n; if (++calls === 1) holder.record(100, 0); return 0; })).toBe(false);
    expect(polls).toBe(4096); // the lease came back during the window: the whole budget was polled
    expect(g.held()).toBe(0);
  });

  it('the free window is for a peer that runs: a waiter whose peer is parked (waking, or on our core) asks for a lease first', () => {
    const g = gate(1);
    expect(g.enter()).toBeGreaterThan(0); // somebody else holds the only lease
    for (const parked of [true, false]) {
      const s = new AdaptiveSpin({ initial: 4096, peer: peerWord(parked), answers: true, gate: g });
      const p = never();
      expect(s.spin(p.poll)).toBe(false);
      expect(p.polls()).toBe(parked ? 0 : HANDOFF); // refused either way; only a running peer's waiter polled first
    }
  });

  it('an event inside the free window never touches the gate', () => {
    const words = new Int32Array(new SharedArrayBuffer(64 * 4));
    const g = new SpinGate(words, 1);
    words[0] = 12345; // somebody holds the only lease
    const s = new AdaptiveSpin({ initial: 4096, gate: g });
    const before = Array.from(words);
    for (let i = 0; i < 100; i++) expect(s.spin(after(HANDOFF - 100))).toBe(true);
    expect(Array.from(words)).toEqual(before); // no lease taken or given back, no refusal counted
    expect(s.hits).toBe(100);
  });

  it('a spinner gives its core up once another thread is refused a lease, after one more look', () => {
    const g = gate(1);
    const s = new AdaptiveSpin({ initial: 1 << 14, max: 1 << 14, gate: g });
    // Nobody else: the whole budget is polled.
    const alone = never();
    expect(s.spin(alone.poll)).toBe(false);
    expect(alone.polls()).toBe(1 << 14);
    // Another waiter asks for the lease during the first chunk after the free window: the spin polls once more and parks.
    const s2 = new AdaptiveSpin({ initial: 1 << 13, max: 1 << 14, gate: g });
    let polls = 0, chunks = 0;
    const crowded = (n: number): number => { polls += n; if (++chunks === 2) expect(g.enter()).toBe(0); return 0; };
    expect(s2.spin(crowded)).toBe(false);
    expect(s2.last).toBe('contended');
    expect(polls).toBeLessThan(HANDOFF + 3 * 256 + 2); // the free window, then chunks of 256 with a lease
    expect(s2.current).toBe(1 << 12); // it counts as a spin that ran out: halved
    // The peer that raised before it was refused (a guest rings, then waits for the reply)
    // is seen by that one more look: a hit, not a park.
    let raised = false;
    chunks = 0;
    const answered = (n: number): number => {
      if (raised) return n;
      if (++chunks === 2) { raised = true; expect(g.enter()).toBe(0); }
      return 0;
    };
    expect(s2.spin(answered)).toBe(true);
    expect(s2.last).toBe('hit');
    expect(g.held()).toBe(0); // every lease given back
  });

  it('on one core nobody spins', () => {
    const s = new AdaptiveSpin({ initial: 4096, gate: gate(0) });
    const p = never();
    for (let i = 0; i < 10; i++) expect(s.spin(p.poll)).toBe(false);
    expect(p.polls()).toBe(0);
    expect(s.misses).toBe(10);
    expect(s.current).toBe(4096); // refusals are not evidence against spinning
  });

  it('across threads, never more spin at once than the gate grants', async () => {
    const gateWords = new SharedArrayBuffer(64 * 4);
    const counters = new SharedArrayBuffer(16);
    const workers = Array.from({ length: 4 }, () => new Worker(new URL('./fixtures/spin-gate-worker.mjs', import.meta.url), {
      workerData: { gateWords, capacity: 1, counters, rounds: 20_000 },
    }));
    await Promise.all(workers.map((w) => new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); })));
    const c = new Int32Array(counters);
    expect(c[2]).toBeGreaterThan(0); // spins happened
    expect(c[1]).toBe(1); // but never two at once
    expect(new SpinGate(new Int32Array(gateWords), 1).held()).toBe(0); // every lease given back
  });
});

describe('the peer: spin only while it runs', () => {
  it('parks at once when the peer is parked and owes nothing; spins when it owes an answer', () => {
    const idle = new AdaptiveSpin({ initial: 512, peer: peerWord(true), gate: gate(1) });
    expect(idle.next()).toBe(0);
    expect(idle.last).toBe('peer-idle');
    const owed = new AdaptiveSpin({ initial: 512, peer: peerWord(true), answers: true, gate: gate(1) });
    expect(owed.next()).toBe(512);
    owed.record(512, 0);
    const running = new AdaptiveSpin({ initial: 512, peer: peerWord(false), gate: gate(1) });
    expect(running.next()).toBe(512);
  });

  it('stops spinning when the peer, seen running, goes back to sleep, and keeps its budget', () => {
    const peer = peerWord(true); // parked, but waking: we just rang it
    const s = new AdaptiveSpin({ initial: 1 << 16, peer, answers: true, gate: gate(1) });
    let polls = 0, calls = 0;
    const hit = s.spin((n) => {
      polls += n;
      calls++; // the free window, then chunks with a lease
      if (calls === 3) peer.view[0] = 0; // it woke up and runs
      if (calls === 5) peer.view[0] = 1; // and parked again without answering
      return 0;
    });
    expect(hit).toBe(false);
    expect(polls).toBeLessThan(1 << 16);
    expect(s.last).toBe('peer-parked');
    expect(s.current).toBe(1 << 16);
  });

  it('a peer without an answer owed that parks mid-spin ends the spin too', () => {
    const peer = peerWord(false);
    const s = new AdaptiveSpin({ initial: 1 << 16, peer, gate: gate(1) });
    let polls = 0;
    s.spin((n) => { polls += n; if (polls >= 3 * n) peer.view[0] = 1; return 0; });
    expect(polls).toBeLessThan(1 << 16);
    expect(s.last).toBe('peer-parked');
  });
});

describe('the budget: from outcomes, not durations', () => {
  it('keeps about four times what a successful spin needed, bounded by max', () => {
    const s = new AdaptiveSpin({ initial: 1000, max: 10_000, gate: gate(1) });
    expect(s.spin(after(900))).toBe(true);
    expect(s.current).toBeGreaterThanOrEqual(3600);
    expect(s.current).toBeLessThanOrEqual(3610);
    expect(s.spin(after(3000))).toBe(true);
    expect(s.current).toBe(10_000);
    expect(s.hits).toBe(2);
  });

  it('halves on each spin that runs out, down to 0, then parks at once but for probes', () => {
    let t = 0; // the probes' clock, ms: each chunk of polls takes 10 us of it, each wait (a park) 100 us
    const s = new AdaptiveSpin({ initial: 1024, max: 1 << 14, probeEvery: 4, gate: gate(1), clock: () => t });
    const seen: number[] = [];
    const wait = (): number => { const p = never(); s.spin((n) => { t += 0.01; return p.poll(n); }); t += 0.1; return p.polls(); };
    for (let i = 0; i < 11; i++) { wait(); seen.push(s.current); }
    expect(seen).toEqual([512, 256, 128, 64, 32, 16, 8, 4, 2, 1, 0]);
    // At 0: one probe of `max` polls after probeEvery waits; it fails, and took 64 chunks
    // (0.64 ms), so the next waits until 64 x 0.64 ms = 40.96 ms have passed.
    const probes: number[] = [];
    for (let i = 0; i < 4 + 300; i++) probes.push(wait());
    expect(probes.filter((p) => p > 0)).toEqual([1 << 14]);
    expect(probes.findIndex((p) => p > 0)).toBe(3);
    // Once that time has passed, the next probe comes after probeEvery waits again; its
    // failure spaces the one after by the same rule (the spacing does not grow).
    t += 41;
    const later: number[] = [];
    for (let i = 0; i < 4 + 300; i++) later.push(wait());
    expect(later.filter((p) => p > 0)).toEqual([1 << 14]);
    t += 41;
    expect([wait(), wait(), wait(), wait()].filter((p) => p > 0)).toEqual([1 << 14]);
  });

  it('after a burst of failed probes the budget comes back within milliseconds of the clock', () => {
    let t = 0;
    const s = new AdaptiveSpin({ initial: 0, max: 1 << 12, probeEvery: 2, gate: gate(1), clock: () => t });
    for (let i = 0; i < 40; i++) { s.spin((n) => { t += 0.001; return never().poll(n); }); t += 0.02; } // 40 waits of a bad period
    expect(s.current).toBe(0);
    // The peer runs beside us again: within 50 ms of waits (each 20 us), a probe catches its event.
    let waits = 0;
    while (s.current === 0 && t < 50) { s.spin(after(100)); t += 0.02; waits++; }
    expect(s.current).toBeGreaterThan(0);
    expect(waits).toBeLessThan(2500);
  });

  it('a probe that catches its event restores the budget', () => {
    const s = new AdaptiveSpin({ initial: 0, max: 1 << 14, probeEvery: 1, gate: gate(1) });
    expect(s.spin(after(300))).toBe(true);
    expect(s.current).toBeGreaterThanOrEqual(1200);
  });

  it('a fixed budget never adapts; fixed 0 never spins', () => {
    const f = new AdaptiveSpin({ fixed: 128, gate: gate(1) });
    f.spin(never().poll);
    expect(f.current).toBe(128);
    const z = new AdaptiveSpin({ fixed: 0 });
    const p = never();
    expect(z.spin(p.poll)).toBe(false);
    expect(p.polls()).toBe(0);
  });
});

describe('hostile writers of the shared words cost latency only', () => {
  it('a gate filled with fresh stamps makes waiters park at once, and their waits still end', async () => {
    const words = new Int32Array(new SharedArrayBuffer(64 * 4));
    const g = new SpinGate(words, 1);
    words.fill(((Date.now() & 0xfffff) << 10) | 1); // a guest claims every lease, freshly
    const bus = BusMemory.create({ bytes: 65536 });
    const sig = createSignal(bus);
    const w = new Waiter(bus, sig, { initial: 4096, gate: g });
    w.enable();
    const woken = w.waitAsync(60_000);
    new Notifier(bus, sig).raise();
    expect(await woken).toBe('ok'); // progress
    expect(w.spinHits).toBe(0);
    expect(w.spin.last).toBe('no-lease');
  });

  it('garbage or stale leases are taken over; a lease taken over is not freed by its old holder', () => {
    const words = new Int32Array(new SharedArrayBuffer(64 * 4));
    let t = 0; // this thread's clock for the age of leases, ms
    const g = new SpinGate(words, 1, () => t);
    // One look for abandoned leases comes with every STALE_CHECK_EVERY refusals of a thread.
    const tryHard = (): number => { for (let k = 0; k < STALE_CHECK_EVERY; k++) { const h = g.enter(); if (h !== 0) return h; } return 0; };
    words[0] = 0x7fffffff; // garbage, or a lease whose holder died
    expect(tryHard()).toBe(0); // first seen now: it may be a live lease
    t += 500;
    expect(tryHard()).toBe(0); // the same word half a second later: still young
    t += 600;
    const a = tryHard(); // unchanged for over LEASE_STALE_MS: taken over
    expect(a).toBeGreaterThan(0);
    // A lease that changes hands (a new tag each take) is never taken over, however long it is busy.
    for (let k = 0; k < 5; k++) { words[0] = 100 + k; t += 900; expect(tryHard()).toBe(0); }
    words[0] = 0;
    const b = g.enter();
    expect(b).toBeGreaterThan(0);
    g.leave(a); // the old holder gives back what is no longer its own
    expect(g.held()).toBe(1);
    g.leave(b);
    expect(g.held()).toBe(0);
    // Every refusal moves the refusal counter.
    const before = g.refusals();
    words[0] = 7;
    expect(g.enter()).toBe(0);
    expect(g.enter()).toBe(0);
    expect(g.refusals()).toBe(before + 2);
  });

  it('a lying peer word costs at most one budget of polls per wait', () => {
    const peer = peerWord(false); // says "running" forever
    const s = new AdaptiveSpin({ initial: 2048, max: 2048, peer, gate: gate(1) });
    const p = never();
    s.spin(p.poll);
    expect(p.polls()).toBe(2048);
  });
});

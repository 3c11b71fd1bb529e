// The serve loops (serveSync / serveAsync): the shm-signal cycle around a drain. A drain
// runs with notification off; the re-check runs right after enabling and sends the loop
// back to draining; a park that times out is followed by the sweep; with drainUntilEmpty
// a busy drain is followed by another with notification still off (the producer's raises
// stay suppressed), and an always-busy async loop still lets timers run.
import { describe, expect, it } from 'vitest';
import { BusMemory, Notifier, SpinGate, Waiter, createSignal, serveAsync, serveSync } from '../dist/src/internal.js';

function fresh() {
  const bus = BusMemory.create({ bytes: 65536 });
  const sig = createSignal(bus);
  const gate = new SpinGate(new Int32Array(new SharedArrayBuffer(256)), 1);
  return { notifier: new Notifier(bus, sig), waiter: new Waiter(bus, sig, { gate, fixed: 0 }) };
}

describe('serveSync', () => {
  it('drains with notification off, and a re-check that finds work sends it back to draining without a park', () => {
    const { notifier, waiter } = fresh();
    let queued = 3; // items "published" before the loop starts
    let drains = 0, rechecks = 0, parks = 0;
    const seenEnabled: boolean[] = [];
    serveSync(waiter, {
      drain: () => { drains++; seenEnabled.push(waiter.enabled); if (queued > 0) queued--; },
      arrived: () => { rechecks++; expect(waiter.enabled).toBe(true); return queued > 0; },
      running: () => queued > 0 || drains < 3,
      sliceMs: 10,
      parking: () => { parks++; },
    });
    expect(seenEnabled.every((e) => !e)).toBe(true);
    expect(drains).toBe(3);
    expect(rechecks).toBe(2); // after drains 1 and 2; drain 3 emptied it and the loop ended
    expect(parks).toBe(0);
    expect(notifier.raise()).toBe(false); // notification is off after the loop: a raise is suppressed
  });

  it('parks with a deadline and sweeps after a park that timed out', () => {
    const { waiter } = fresh();
    let sweeps = 0, drains = 0, parks = 0;
    serveSync(waiter, {
      drain: () => { drains++; },
      arrived: () => false,
      running: () => sweeps < 2,
      sliceMs: 5,
      sweep: () => { sweeps++; },
      parking: () => { parks++; },
    });
    expect(sweeps).toBe(2);
    expect(parks).toBe(2);
    expect(drains).toBe(2); // the sweep ended the loop before a third
  });

  it('a raised wake-up ends the park at once, and is consumed before the next drain', () => {
    const { notifier, waiter } = fresh();
    let drains = 0, sweeps = 0;
    const pendingAtDrain: boolean[] = [];
    serveSync(waiter, {
      drain: () => { drains++; pendingAtDrain.push(waiter.pending); },
      arrived: () => { if (drains === 1) expect(notifier.raise()).toBe(true); return false; }, // enabled: this raise is a wake-up
      running: () => drains < 2,
      sliceMs: 60_000,
      sweep: () => { sweeps++; },
    });
    expect(drains).toBe(2);
    expect(sweeps).toBe(0); // it did not wait for the deadline
    expect(pendingAtDrain).toEqual([false, false]);
  });

  it('drainUntilEmpty: busy drains follow each other with notification off; the re-check runs once the source is empty', () => {
    const { notifier, waiter } = fresh();
    let queued = 5, rechecks = 0;
    const raised: boolean[] = [];
    serveSync(waiter, {
      drain: () => {
        raised.push(notifier.raise()); // a producer publishing while we drain
        if (queued === 0) return 0;
        queued--;
        return 1;
      },
      arrived: () => { rechecks++; return false; },
      running: () => rechecks === 0,
      sliceMs: 1,
      drainUntilEmpty: true,
    });
    expect(raised).toEqual([false, false, false, false, false, false]); // 5 busy drains and the empty one, all suppressed
    expect(rechecks).toBe(1);
  });

  it('without drainUntilEmpty every drain is followed by the enable and re-check, whatever it returns', () => {
    const { waiter } = fresh();
    let drains = 0, rechecks = 0;
    serveSync(waiter, {
      drain: () => { drains++; return 1; },
      arrived: () => { rechecks++; return drains < 4; },
      running: () => drains < 4,
      sliceMs: 1,
    });
    expect(drains).toBe(4);
    expect(rechecks).toBe(3);
  });
});

describe('serveAsync', () => {
  it('an always-busy drain still gives timers a turn (yieldEvery), so the loop can be stopped from one', async () => {
    const { waiter } = fresh();
    let stop = false, drains = 0;
    const timer = setTimeout(() => { stop = true; }, 20);
    await serveAsync(waiter, {
      drain: () => { drains++; return 1; },
      arrived: () => true,
      running: () => !stop,
      sliceMs: 1000,
      drainUntilEmpty: true,
      yieldEvery: 8,
    });
    clearTimeout(timer);
    expect(stop).toBe(true);
    expect(drains).toBeGreaterThan(8);
  });

  it('parks without blocking the event loop and wakes on a raise from a timer', async () => {
    const { notifier, waiter } = fresh();
    let items = 0, taken = 0, sweeps = 0;
    const timer = setTimeout(() => { items++; notifier.raise(); }, 10);
    await serveAsync(waiter, {
      drain: () => { const n = items - taken; taken = items; return n; },
      arrived: () => items > taken,
      running: () => taken === 0,
      sliceMs: 60_000,
      sweep: () => { sweeps++; },
      drainUntilEmpty: true,
    });
    clearTimeout(timer);
    expect(taken).toBe(1);
    expect(sweeps).toBe(0);
  });
});

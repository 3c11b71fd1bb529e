// shm-signal: suppression and its counters, waiting with a timeout (sync and async),
// and the adaptive spin budget as a Waiter uses it (fixed 0 always parks; the budget
// falls to 0 when spinning never pays off and grows again when a raise arrives during a
// probe). Each waiter here has a gate of its own, so the policy is tested apart from how
// many cores the machine has (test/adaptive-spin.test.ts tests the gate).
import { describe, it, expect } from 'vitest';
import { Worker } from 'node:worker_threads';
import { BusMemory, Notifier, Waiter, SpinGate, createSignal, destroySignal, readSignalStats } from '../dist/src/internal.js';

function fresh(policy = {}) {
  const bus = BusMemory.create({ bytes: 65536 });
  const sig = createSignal(bus);
  const gate = new SpinGate(new Int32Array(new SharedArrayBuffer(256)), 1);
  return { bus, sig, notifier: new Notifier(bus, sig), waiter: new Waiter(bus, sig, { gate, ...policy }) };
}

describe('suppression', () => {
  it('raises only when enabled and nothing is pending; counts everything', () => {
    const { bus, sig, notifier, waiter } = fresh();
    expect(waiter.enabled).toBe(false);
    expect(notifier.raise()).toBe(false); // not enabled: the waiter is busy draining
    expect(notifier.stats()).toEqual({ raised: 0, suppressed: 1, notifies: 0 });
    waiter.enable();
    expect(waiter.enabled).toBe(true);
    expect(waiter.pending).toBe(false);
    expect(notifier.raise()).toBe(true);
    expect(waiter.pending).toBe(true);
    for (let i = 0; i < 5; i++) expect(notifier.raise()).toBe(false); // one wake-up is already on its way
    expect(notifier.stats()).toEqual({ raised: 1, suppressed: 6, notifies: 0 }); // nobody slept: no notify paid
    waiter.disable();
    expect(waiter.pending).toBe(false); // the wake-up is consumed
    expect(waiter.enabled).toBe(false);
    expect(notifier.raise()).toBe(false);
    waiter.enable();
    expect(notifier.raise()).toBe(true);
    expect(readSignalStats(bus, sig)).toEqual({ raised: 2, suppressed: 7, notifies: 0 });
    expect(readSignalStats(bus, sig)).toEqual(notifier.stats());
  });

  it('every notifier of one signal shares its state and counters', () => {
    const { bus, sig, waiter } = fresh();
    const a = new Notifier(bus, sig);
    const b = new Notifier(bus, sig);
    waiter.enable();
    expect(a.raise()).toBe(true);
    expect(b.raise()).toBe(false);
    expect(b.stats()).toEqual({ raised: 1, suppressed: 1, notifies: 0 });
  });

  it('destroySignal makes the region unattachable', () => {
    const { bus, sig } = fresh();
    destroySignal(bus, sig);
    expect(() => new Waiter(bus, sig)).toThrow(/no signal at offset/);
  });
});

describe('waiting', () => {
  it('waitSync times out when nothing is raised, and returns at once when a wake-up is pending', () => {
    const { notifier, waiter } = fresh({ fixed: 0 });
    waiter.enable();
    expect(waiter.waitSync(5)).toBe('timed-out');
    expect(waiter.parks).toBe(1);
    expect(notifier.raise()).toBe(true);
    expect(waiter.waitSync(60_000)).toBe('ok'); // would hang the test if it parked
    expect(waiter.pending).toBe(true); // waiting does not consume the wake-up; disable does
    waiter.disable();
    expect(waiter.pending).toBe(false);
  });

  it('waitAsync times out, and a raise wakes a parked waitAsync with a notify', async () => {
    const { notifier, waiter } = fresh({ fixed: 0 });
    waiter.enable();
    expect(await waiter.waitAsync(5)).toBe('timed-out');
    const woken = waiter.waitAsync(60_000); // parks (fixed 0: no spin) before returning
    expect(notifier.raise()).toBe(true);
    expect(await woken).toBe('ok');
    expect(notifier.stats()).toEqual({ raised: 1, suppressed: 0, notifies: 1 }); // it was asleep: notify paid once
    waiter.disable();
    // After waking, the waiter is no longer asleep: the next raise pays no notify.
    waiter.enable();
    expect(notifier.raise()).toBe(true);
    expect(notifier.stats().notifies).toBe(1);
  });
});

describe('waitAsync deadlines (one timer per waiter, re-armed as parks need it)', () => {
  it('every park ends by its own deadline: a short one after a long one, and again after a park a raise ended', async () => {
    const { notifier, waiter } = fresh({ fixed: 0 });
    waiter.enable();
    const long = waiter.waitAsync(60_000);
    expect(notifier.raise()).toBe(true);
    expect(await long).toBe('ok'); // ended by the raise; its deadline was far away
    waiter.disable();
    waiter.enable();
    expect(await waiter.waitAsync(10)).toBe('timed-out'); // would hang for a minute on the long park's timer
    expect(await waiter.waitAsync(10)).toBe('timed-out');
  });

  it('a timer armed by an earlier, shorter park does not end a later, longer one early', async () => {
    const { notifier, waiter } = fresh({ fixed: 0 });
    waiter.enable();
    const short = waiter.waitAsync(20);
    expect(notifier.raise()).toBe(true);
    expect(await short).toBe('ok'); // its timer is still armed, due in about 20 ms
    waiter.disable();
    waiter.enable();
    const long = waiter.waitAsync(60_000);
    const raiseLater = setTimeout(() => notifier.raise(), 150); // well after the short park's timer fired
    expect(await long).toBe('ok'); // not 'timed-out': the old timer re-armed for this park's deadline
    clearTimeout(raiseLater);
    waiter.releaseDeadline();
  });
});

describe('adaptive spin budget', () => {
  it('a fixed budget of 0 always parks, even when a wake-up is already pending', () => {
    const { notifier, waiter } = fresh({ fixed: 0 });
    expect(waiter.spinBudget).toBe(0);
    for (let i = 0; i < 50; i++) {
      waiter.enable();
      expect(notifier.raise()).toBe(true);
      expect(waiter.waitSync(60_000)).toBe('ok');
      waiter.disable();
    }
    expect(waiter.parks).toBe(50);
    expect(waiter.spinHits).toBe(0);
    expect(waiter.spinBudget).toBe(0);
  });

  it('a pending wake-up is found by the spin without parking', () => {
    const { notifier, waiter } = fresh({ initial: 64 });
    waiter.enable();
    notifier.raise();
    expect(waiter.waitSync(60_000)).toBe('ok');
    expect(waiter.spinHits).toBe(1);
    expect(waiter.parks).toBe(0);
  });

  it('shrinks to 0 while spins keep failing, then parks at once', () => {
    const { waiter } = fresh({ initial: 1024, probeEvery: 1_000_000 });
    const budgets = [waiter.spinBudget];
    waiter.enable();
    for (let i = 0; i < 11; i++) {
      expect(waiter.waitSync(1)).toBe('timed-out'); // no raise: the spin never pays off
      budgets.push(waiter.spinBudget);
    }
    expect(budgets[0]).toBe(1024);
    for (let i = 1; i < budgets.length; i++) {
      if (budgets[i - 1]! > 0) expect(budgets[i]!).toBeLessThan(budgets[i - 1]!);
    }
    expect(budgets.at(-1)).toBe(0);
    expect(waiter.spinHits).toBe(0);
    expect(waiter.parks).toBe(11);
  });

  it('grows again when a raise from another thread arrives during a probe spin', async () => {
    const probe = 1 << 24; // polls: long enough that a raise 200 us later lands inside it
    const { bus, sig, waiter } = fresh({ initial: 0, probe, probeEvery: 1, max: 1 << 26 });
    const control = bus.allocRegion(64);
    const worker = new Worker(new URL('./fixtures/signal-worker.mjs', import.meta.url), {
      workerData: { memory: bus.memory, module: bus.module, sig, control, delayUs: 200 },
    });
    const done = new Promise<{ rounds: number }>((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
    expect(waiter.spinBudget).toBe(0);
    let attempts = 0;
    try {
      // A raise can still miss the probe (the worker descheduled for longer than the
      // probe); then the wait parks, is woken by notify, and a later round tries again
      // (a failed probe spaces the next by PROBE_SPACING times its duration: rounds go on
      // until then, within a guard of 60 s).
      const until = Date.now() + 60_000;
      while (waiter.spinBudget === 0 && Date.now() < until) {
        waiter.enable();
        expect(waiter.waitSync(60_000)).toBe('ok');
        waiter.disable();
        attempts++;
        const ack = (control >> 2) + 1;
        const deadline = Date.now() + 60_000; // a guard against a dead worker, not a measurement
        while (Atomics.load(bus.i32, ack) < attempts) { // the worker saw the disable
          if (Date.now() > deadline) throw new Error(`worker did not acknowledge round ${attempts}`);
        }
      }
    } finally {
      Atomics.store(bus.i32, control >> 2, 1); // stop the worker
    }
    const { rounds } = await done;
    expect(rounds).toBe(attempts);
    expect(waiter.spinHits).toBeGreaterThan(0);
    expect(waiter.spinBudget).toBeGreaterThan(0); // grew from 0
    expect(readSignalStats(bus, sig).raised).toBe(attempts);
  });
});

// One serve loop for many buses: requests pending on every bus when the host wakes are
// all served by that one wake-up, no bus starves another, a raise on one bus of many
// drains that bus only, and a bus that joins while the loop is parked is served at once.
import { afterEach, describe, expect, it } from 'vitest';
import { SIG_OFF_PENDING } from '../dist/assembly/layout/signal.js';
import { SLOT_OFF_RSEQ } from '../dist/assembly/layout/callslot.js';
import { BusEndpoint, BusMemory, GROUP_SPIN, Notifier, ServeGroup, TURN_SPIN, Waiter, createSignal, wire, type GuestBoot } from '../dist/src/internal.js';

const eps: BusEndpoint[] = [];
afterEach(async () => { for (const ep of eps.splice(0)) await ep.release(); });

const echo = { call(_c: unknown, _f: number, p: Uint8Array, out: Uint8Array) { out.set(p.slice()); return p.length; } };

/** Posts an OPEN request into a member's slot the way a guest does, without waiting. */
function post(mem: InstanceType<typeof BusMemory>, b: GuestBoot, seq: number): void {
  const u32 = mem.u32, s = b.slot;
  u32[(s + wire.SLOT_OFF_OP) >> 2] = wire.OP_DEVOPEN;
  u32[(s + wire.SLOT_OFF_DEVID) >> 2] = 0;
  u32[(s + wire.SLOT_OFF_ARG0) >> 2] = 1;
  u32[(s + wire.SLOT_OFF_SEQ) >> 2] = seq;
  Atomics.store(mem.i32, (s + wire.SLOT_OFF_STATE) >> 2, wire.SLOT_REQUEST);
  Atomics.or(mem.i32, ((b.busctl + wire.BUSCTL_OFF_PENDING) >> 2) + (b.bit >> 5), 1 << (b.bit & 31));
  mem.core.sig_raise(b.doorbell);
}

const done = (mem: InstanceType<typeof BusMemory>, b: GuestBoot): boolean => Atomics.load(mem.i32, (b.slot + wire.SLOT_OFF_STATE) >> 2) === wire.SLOT_DONE;

async function until(pred: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** A bus in `group` with an echo device (id 0) and one member, its endpoint started. */
function echoBus(group: ServeGroup, name: string) {
  const mem = BusMemory.create({ bytes: 1 << 18 });
  const ep = new BusEndpoint(mem, name, { group });
  eps.push(ep);
  ep.addDevice(0, 'test-echo', echo);
  const boot = ep.addMember(1);
  ep.start();
  return { mem, ep, boot };
}

describe('a serve group: one wake-up serves every bus', () => {
  it('requests pending on 8 buses are all answered by the first round after the wake-up', async () => {
    const group = new ServeGroup();
    const buses = Array.from({ length: 8 }, (_, i) => {
      const mem = BusMemory.create({ bytes: 1 << 18 });
      const ep = new BusEndpoint(mem, `g${i}`, { group });
      eps.push(ep);
      ep.addDevice(0, 'test-echo', echo);
      const boots = [ep.addMember(1), ep.addMember(2)];
      ep.start();
      return { mem, ep, boots };
    });
    expect(group.size).toBe(8);
    for (let round = 1; round <= 5; round++) {
      await new Promise((r) => setTimeout(r, 20)); // the group parks
      const before = group.stats.busyRounds;
      for (const { mem, boots } of buses) for (const b of boots) post(mem, b, round); // 16 requests, then yield
      await until(() => buses.every(({ mem, boots }) => boots.every((b) => done(mem, b))));
      expect(group.stats.busyRounds - before).toBe(1);
      for (const { mem, boots } of buses) for (const b of boots) {
        expect(mem.i32[(b.slot + wire.SLOT_OFF_STATUS) >> 2]).toBe(0);
        expect(mem.u32[(b.slot + SLOT_OFF_RSEQ) >> 2]).toBe(round);
        Atomics.store(mem.i32, (b.slot + wire.SLOT_OFF_STATE) >> 2, wire.SLOT_IDLE);
      }
    }
    // Leaving the group: the loop stops once the last bus left, and nothing else is served.
    for (const { ep } of buses) await ep.stop();
    expect(group.size).toBe(0);
  });

  it('a bus whose guest keeps its doorbell raised does not starve the others', async () => {
    const group = new ServeGroup();
    const mk = (name: string) => echoBus(group, name);
    const noisy = mk('noisy');
    const quiet = mk('quiet');
    let stop = false;
    const hammer = setInterval(() => { if (!stop) for (let i = 0; i < 100; i++) { Atomics.store(noisy.mem.i32, (noisy.boot.doorbell + SIG_OFF_PENDING) >> 2, 1); Atomics.notify(noisy.mem.i32, (noisy.boot.doorbell + SIG_OFF_PENDING) >> 2); } }, 0);
    try {
      for (let i = 1; i <= 20; i++) {
        post(quiet.mem, quiet.boot, i);
        await until(() => done(quiet.mem, quiet.boot));
        expect(quiet.mem.u32[(quiet.boot.slot + SLOT_OFF_RSEQ) >> 2]).toBe(i);
        Atomics.store(quiet.mem.i32, (quiet.boot.slot + wire.SLOT_OFF_STATE) >> 2, wire.SLOT_IDLE);
      }
    } finally {
      stop = true;
      clearInterval(hammer);
    }
  });

  it('a raise on one bus of 32 drains that bus, not the 31 idle ones', async () => {
    const group = new ServeGroup({ sliceMs: 60_000 });
    const mem = BusMemory.create({ bytes: 1 << 18 });
    const members = Array.from({ length: 32 }, () => {
      const sig = createSignal(mem);
      const m = { waiter: new Waiter(mem, sig, { fixed: 0 }), notifier: new Notifier(mem, sig), drains: 0, drain() { this.drains++; return 0; }, anyPending: () => false, sweep() {} };
      group.add(m);
      return m;
    });
    await until(() => members.every((m) => m.drains >= 1)); // each newcomer is served once
    await new Promise((r) => setTimeout(r, 20)); // the group parks
    const before = members.map((m) => m.drains);
    for (let k = 0; k < 5; k++) {
      const target = members[7]!;
      const n = target.drains;
      target.notifier.raise();
      await until(() => target.drains > n);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(members[7]!.drains - before[7]!).toBeGreaterThanOrEqual(5);
    expect(members.filter((_, i) => i !== 7).every((m, i) => m.drains === before[i < 7 ? i : i + 1])).toBe(true);
    for (const m of members) await group.remove(m);
    expect(group.size).toBe(0);
  });

  it('a member that always has work keeps the loop in rounds, and timers still run between them (yieldMs)', async () => {
    const group = new ServeGroup({ sliceMs: 60_000, spin: { fixed: 0 } }); // no yieldEvery: the default bound of time only
    const mem = BusMemory.create({ bytes: 1 << 16 });
    const m = { waiter: new Waiter(mem, createSignal(mem), { fixed: 0 }), drains: 0, drain() { this.drains++; return 1; }, anyPending: () => true, sweep() {} };
    group.add(m);
    // One of our immediates runs per event-loop turn the loop gives up (both queue in
    // the same phase), so `turns` counts the loop's yields.
    let turns = 0, stop = false;
    const turn = (): void => { turns++; if (!stop) setImmediate(turn); };
    setImmediate(turn);
    let ticks = 0;
    const timer = setInterval(() => { ticks++; }, 0);
    await until(() => ticks >= 20); // a loop that never yielded would hang here
    clearInterval(timer);
    stop = true;
    const drainsPerTurn = m.drains / turns;
    await group.remove(m);
    expect(drainsPerTurn).toBeGreaterThan(64); // many rounds per event-loop turn, not a turn every few rounds
    expect(group.stats.parks).toBe(0); // it never had to park: there was always work
  });

  it('the last member leaving while the loop yields ends the loop (it does not park on no doorbell)', async () => {
    // yieldEvery 1: every round ends with a macrotask yield, so right after add() the loop
    // is in that yield, and the removal lands there. Then again after the loop has parked.
    const mem = BusMemory.create({ bytes: 1 << 16 });
    for (const settle of [0, 20]) {
      const group = new ServeGroup({ sliceMs: 60_000, yieldEvery: 1, spin: { fixed: 0 } });
      const sig = createSignal(mem);
      const m = { waiter: new Waiter(mem, sig, { fixed: 0 }), drains: 0, drain() { this.drains++; return 0; }, anyPending: () => false, sweep() {} };
      group.add(m);
      if (settle) await new Promise((r) => setTimeout(r, settle));
      const removed = group.remove(m).then(() => 'removed');
      const outcome = await Promise.race([removed, new Promise((r) => setTimeout(() => r('hung'), 2_000))]);
      expect(outcome).toBe('removed');
      expect(group.size).toBe(0);
      // The group starts again for a newcomer, and serves it.
      const again = { ...m, drains: 0, drain() { this.drains++; return 0; } };
      group.add(again);
      await until(() => again.drains >= 1);
      await group.remove(again);
    }
  });

  it('idle members: once a slice every one is swept and drained, and the group wakes once for all of them', async () => {
    // The members' waits have no deadline of their own: one timer for the group ends a
    // park each slice. A member whose work is hidden (its doorbell never rings, as when a
    // guest silenced it) is still drained each slice.
    const sliceMs = 25;
    const group = new ServeGroup({ sliceMs, spin: { fixed: 0 } });
    const mem = BusMemory.create({ bytes: 1 << 18 });
    const members = Array.from({ length: 64 }, () => {
      const m = { waiter: new Waiter(mem, createSignal(mem), { fixed: 0 }), drains: 0, sweeps: 0, hidden: 0, served: 0,
        drain() { this.drains++; const h = this.hidden; this.served += h; this.hidden = 0; return h; }, anyPending: () => false, sweep() { this.sweeps++; } };
      group.add(m);
      return m;
    });
    await until(() => members.every((m) => m.drains >= 1));
    await new Promise((r) => setTimeout(r, 20)); // parked, every member's wait out
    const parks0 = group.stats.parks;
    const t0 = performance.now();
    const sweeps0 = members.map((m) => m.sweeps);
    members[5]!.hidden = 3; // work no doorbell names
    await until(() => members[5]!.served === 3, 5_000);
    await new Promise((r) => setTimeout(r, 10 * sliceMs));
    const slices = (performance.now() - t0) / sliceMs;
    const swept = members.map((m, i) => m.sweeps - sweeps0[i]!);
    const parks = group.stats.parks - parks0;
    for (const m of members) await group.remove(m);
    expect(Math.min(...swept)).toBeGreaterThanOrEqual(5); // ~10 slices passed: every member was swept in (nearly) each
    expect(Math.max(...swept)).toBeLessThanOrEqual(slices + 2);
    // Parks: about one per slice for the whole group, not one per member and slice.
    expect(parks).toBeLessThanOrEqual(3 * slices + 3);
    expect(group.size).toBe(0);
  });

  it('a turn spin that is not a finite number of polls >= 0 is refused with EINVAL', () => {
    for (const turnSpin of [-1, Number.NaN, Infinity]) {
      expect(() => new ServeGroup({ turnSpin })).toThrow(expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining('turnSpin') }));
    }
    // The default covers a thread's wake-up, and a spin `max` beyond it is kept.
    expect(TURN_SPIN).toBeGreaterThan(GROUP_SPIN.max);
    expect(new ServeGroup({ turnSpin: 0 }).size).toBe(0);
  });

  it('a bus that joins while the loop is parked is served at once, not after a slice', async () => {
    const group = new ServeGroup({ sliceMs: 60_000 }); // a slice would outlast the test
    const mk = (name: string) => echoBus(group, name);
    mk('first');
    await new Promise((r) => setTimeout(r, 20)); // the loop parks on the first bus only
    const late = mk('late');
    post(late.mem, late.boot, 1);
    await until(() => done(late.mem, late.boot), 5_000);
    expect(late.mem.u32[(late.boot.slot + SLOT_OFF_RSEQ) >> 2]).toBe(1);
  });
});

// A reply wakes the guest only when the guest said it parks (the slot's PARKED word): a
// guest that caught its reply while spinning costs the server no notify, one that parks
// is always woken, and a guest that hides its park (or a member that hides another's)
// delays those replies by a re-check at most.
import { afterEach, describe, expect, it } from 'vitest';
import { BusMemory, SlotServer } from '../dist/src/internal.js';
import {
  SLOT_OFF_STATE, SLOT_OFF_PARKED, SLOT_OFF_STATUS, SLOT_OFF_RSEQ, SLOT_BUSY, SLOT_DONE, SLOT_HEADER_BYTES,
} from '../dist/assembly/layout/callslot.js';
import { makeBus as makeBusOn, releaseBuses } from './helpers/endpoint-bus.js';
import { TRANSPORTS } from './helpers/transports.js';
// @ts-expect-error plain ESM fixture
import { echoModel } from './fixtures/echo-model.mjs';

afterEach(releaseBuses);

/** A slot in a fresh bus memory, BUSY as the server leaves it after a claim. */
function busySlot() {
  const bus = BusMemory.create({ bytes: 65536 });
  const slot = bus.allocRegion(SLOT_HEADER_BYTES + 64);
  Atomics.store(bus.i32, (slot + SLOT_OFF_STATE) >> 2, SLOT_BUSY);
  // reply() touches only the slot and its in-flight record: no decode tables are needed.
  const server = new SlotServer(bus, null as never, 0, 64);
  return { bus, slot, server, served: { slot, hTab: 0, inflight: null, live: true } };
}

describe('call slot: PARKED decides whether a reply notifies', () => {
  for (const parked of [0, 1]) {
    it(`PARKED = ${parked}: the reply is written either way; the parked waiter is woken ${parked ? 'at once' : 'only by its own deadline'}`, async () => {
      const { bus, slot, server, served } = busySlot();
      Atomics.store(bus.i32, (slot + SLOT_OFF_PARKED) >> 2, parked);
      const wait = Atomics.waitAsync(bus.i32, (slot + SLOT_OFF_STATE) >> 2, SLOT_BUSY, 300);
      expect(wait.async).toBe(true);
      server.reply(served, 77, { status: -5 });
      expect(Atomics.load(bus.i32, (slot + SLOT_OFF_STATE) >> 2)).toBe(SLOT_DONE);
      expect(bus.u32[(slot + SLOT_OFF_RSEQ) >> 2]).toBe(77);
      expect(bus.i32[(slot + SLOT_OFF_STATUS) >> 2]).toBe(-5);
      expect(await wait.value).toBe(parked ? 'ok' : 'timed-out');
    });
  }
});

describe.each(TRANSPORTS)('calls that park (%s transport)', (transport) => {
  it('synchronous calls answered late (the guest parks) and at once (it spins) alternate, every reply byte-exact', async () => {
    const { ep, spawn } = makeBusOn('parked', 1 << 20, { transport });
    ep.addDevice(0, 'test-echo', echoModel());
    const g = spawn(1);
    await g.waitEvent((e) => e.event === 'ready');
    const { handle } = await g.cmd('open', { dev: 0 });
    for (let i = 0; i < 12; i++) {
      const len = [8, 8, 3, 100, 0, 8][i % 6]!;
      const late = await g.cmd('call', { handle, func: 2, len, seed: i }); // answered after 20 ms
      expect(late).toMatchObject({ ok: true, len });
      expect(late.sum).toBe(late.expect);
      const now = await g.cmd('call', { handle, func: 1, len, seed: i + 100 });
      expect(now).toMatchObject({ ok: true, len });
      expect(now.sum).toBe(now.expect);
    }
  });
});

describe('a member that clears another member\'s PARKED', () => {
  it('delays that member\'s parked calls by a re-check at most, never until their deadline', async () => {
    const { ep, spawn, mem } = makeBusOn('hidden-park', 1 << 20);
    ep.addDevice(0, 'test-echo', echoModel());
    const g = spawn(1);
    await g.waitEvent((e) => e.event === 'ready');
    const { handle } = await g.cmd('open', { dev: 0 });
    // The bus memory is every member's: play the other member, clearing the guest's PARKED
    // word all the time, so that the host's late replies find it down and do not notify.
    const slot = (ep as unknown as { registry: { members: Map<number, { slot: number }> } }).registry.members.get(1)!.slot;
    const hide = setInterval(() => Atomics.store(mem.i32, (slot + SLOT_OFF_PARKED) >> 2, 0), 0);
    // Calls without a deadline: a reply that nobody is told of would leave them parked for
    // ever, so "hung" after 10 s (the replies come after 20 ms) means the re-check is gone.
    const answered = (p: Promise<Record<string, any>>) => Promise.race([p, new Promise<string>((r) => setTimeout(() => r('hung'), 10_000))]);
    try {
      for (let i = 0; i < 5; i++) {
        const r = await answered(g.cmd('call', { handle, func: 2, len: 16, seed: i, timeoutMs: Infinity })); // answered after 20 ms
        expect(r).toMatchObject({ ok: true, len: 16 });
        expect((r as Record<string, any>).sum).toBe((r as Record<string, any>).expect);
        const a = await answered(g.cmd('callAsync', { handle, func: 2, len: 16, seed: i + 50, timeoutMs: Infinity }));
        expect(a).toMatchObject({ len: 16 });
        expect((a as Record<string, any>).sum).toBe((a as Record<string, any>).expect);
      }
    } finally {
      clearInterval(hide);
    }
  });
});

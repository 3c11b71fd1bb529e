// Failures surface instead of hanging, and one hostile store cannot wedge a bus:
//  - a device model that throws, forgets `return`, returns nonsense or rejects: the guest
//    gets EIO and the endpoint reports the fault once;
//  - every guest-side wait has a deadline, and a slot left busy by an abandoned call is
//    reclaimed (the two known hangs are reproduced here);
//  - a guest that leaves the doorbell's PENDING word set, clears the pending bits, or
//    overwrites the bus header does not lock the other members, or new ones, out.
import { afterEach, describe, expect, it } from 'vitest';
import { SIG_OFF_PENDING, SIG_OFF_ENABLED } from '../dist/assembly/layout/signal.js';
import { BUS_OFF_MAGIC } from '../dist/assembly/layout/bus.js';
import { BUSCTL_OFF_MAGIC } from '../dist/assembly/layout/busctl.js';
import { vbusError, type ConnectorModel } from '../dist/src/index.js';
import { makeBus, releaseBuses } from './helpers/endpoint-bus.js';
// @ts-expect-error plain ESM fixture
import { echoModel } from './fixtures/echo-model.mjs';

afterEach(releaseBuses);

type Fault = { deviceId: number; hook: string; func?: number; message: string };

/** A model whose funcs misbehave in every way a model can. */
function badModel(): ConnectorModel {
  return {
    call(_c, func, payload, out) {
      if (func === 1) { out.set(payload.slice()); return payload.length; }
      if (func === 10) { out.set(payload.slice()); return undefined as unknown as number; } // forgot `return payload.length`
      if (func === 11) throw new TypeError('cannot read properties of undefined');
      if (func === 12) return 'eight' as unknown as number;
      if (func === 13) return Promise.reject(new Error('backing store went away'));
      if (func === 14) return 1.5;
      if (func === 15) throw vbusError('EINVAL', 'a refusal is an answer, not a fault');
      if (func === 16) return Promise.resolve({ n: 3 } as unknown as number);
      return -38;
    },
  };
}

describe('device faults reach the guest as EIO and the host once', () => {
  it('throw, missing return, a string, a rejection, a non-integer, a non-number resolution: EIO each, one report each', async () => {
    const faults: Fault[] = [];
    const { ep, spawn } = makeBus('faults', 1 << 20, { onDeviceFault: (f) => faults.push(f) });
    ep.addDevice(0, 'test-echo', badModel());
    const g = spawn(1);
    await g.waitEvent((e) => e.event === 'ready');
    const { handle } = await g.cmd('open', { dev: 0 });
    for (const func of [10, 11, 12, 14]) {
      expect(await g.cmd('call', { handle, func, len: 8, timeoutMs: 10_000 }), `func ${func}`).toMatchObject({ ok: false, error: 'EIO' });
    }
    for (const func of [13, 16]) {
      expect(await g.cmd('callAsync', { handle, func, len: 8, timeoutMs: 10_000 }), `func ${func}`).toMatchObject({ ok: false, error: 'EIO' });
    }
    // A VbusError thrown is the model's answer: its code, no fault.
    expect(await g.cmd('call', { handle, func: 15, len: 4 })).toMatchObject({ ok: false, error: 'EINVAL' });
    // The slot still works.
    expect(await g.cmd('call', { handle, func: 1, len: 40, seed: 2 })).toMatchObject({ ok: true, len: 40 });
    expect(faults.map((f) => f.func)).toEqual([10, 11, 12, 14, 13, 16]);
    for (const f of faults) { expect(f.deviceId).toBe(0); expect(f.hook).toBe('call'); expect(f.message.length).toBeGreaterThan(0); }
    expect(faults[0]!.message).toMatch(/undefined/);
    expect(faults[1]!.message).toMatch(/TypeError/);
  });

  it('reproduction: a model `call` that forgets `return` no longer hangs the guest\'s sync call', async () => {
    const faults: Fault[] = [];
    const { ep, spawn } = makeBus('no-return', 1 << 20, { onDeviceFault: (f) => faults.push(f) });
    ep.addDevice(0, 'test-echo', { call(_c, _f, payload, out) { out.set(payload.slice()); } } as unknown as ConnectorModel);
    const g = spawn(1);
    await g.waitEvent((e) => e.event === 'ready');
    const { handle } = await g.cmd('open', { dev: 0 });
    // No timeoutMs: the default deadline would also end it, but EIO comes at once.
    expect(await g.cmd('call', { handle, func: 1, len: 8 })).toMatchObject({ ok: false, error: 'EIO' });
    expect(faults).toHaveLength(1);
  });

  it('a fault is logged by default (once) when nobody listens', async () => {
    const lines: string[] = [];
    const orig = console.error;
    console.error = (...a: unknown[]) => { lines.push(a.join(' ')); };
    try {
      const { ep, spawn } = makeBus('logged');
      ep.addDevice(0, 'test-echo', badModel());
      const g = spawn(1);
      await g.waitEvent((e) => e.event === 'ready');
      const { handle } = await g.cmd('open', { dev: 0 });
      expect(await g.cmd('call', { handle, func: 11, len: 8 })).toMatchObject({ ok: false, error: 'EIO' });
    } finally {
      console.error = orig;
    }
    expect(lines.filter((l) => l.includes('device 0 on bus logged'))).toHaveLength(1);
  });
});

describe('every guest-side wait has a deadline', () => {
  it('reproduction: a timed-out callAsync whose promise never settles, then a sync call: the slot is reclaimed', async () => {
    const { ep, spawn } = makeBus('reclaim', 1 << 20, { callTimeoutMs: 300 });
    ep.addDevice(0, 'test-echo', echoModel());
    const g = spawn(1);
    await g.waitEvent((e) => e.event === 'ready');
    const { handle } = await g.cmd('open', { dev: 0 });
    expect(await g.cmd('callAsync', { handle, func: 4, timeoutMs: 50 })).toMatchObject({ ok: false, error: 'ETIMEDOUT' });
    // The host answers the abandoned call at its deadline; the next call absorbs that and gets its own reply.
    const r = await g.cmd('call', { handle, func: 1, len: 21, seed: 4 });
    expect(r).toMatchObject({ ok: true, len: 21 });
    expect(r.sum).toBe(r.expect);
  });

  it('a sync call that names no timeout ends ETIMEDOUT at the default deadline', async () => {
    const { ep, spawn } = makeBus('default-deadline', 1 << 20, { guestCallTimeoutMs: 200 });
    ep.addDevice(0, 'test-echo', echoModel());
    const g = spawn(1);
    await g.waitEvent((e) => e.event === 'ready');
    const { handle } = await g.cmd('open', { dev: 0 });
    expect(await g.cmd('call', { handle, func: 4 })).toMatchObject({ ok: false, error: 'ETIMEDOUT' });
    expect(await g.cmd('callAsync', { handle, func: 4 })).toMatchObject({ ok: false, error: 'ETIMEDOUT' });
  });
});

describe('one hostile store cannot wedge a bus or lock its members out', () => {
  it('a guest that sets the doorbell PENDING word (no notify) while the host is parked: others, and new guests, are still served', async () => {
    const { ep, spawn } = makeBus('wedge');
    ep.addDevice(0, 'test-echo', echoModel());
    const bad = spawn(1);
    const good = spawn(2);
    await bad.waitEvent((e) => e.event === 'ready');
    await good.waitEvent((e) => e.event === 'ready');
    const { handle } = await good.cmd('open', { dev: 0 });
    await new Promise((r) => setTimeout(r, 50)); // the host parks on the doorbell
    await bad.cmd('poke', { region: 'doorbell', at: SIG_OFF_PENDING, value: 1 });
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 3; i++) expect(await good.cmd('call', { handle, func: 1, len: 8, seed: i, timeoutMs: 5000 })).toMatchObject({ ok: true, len: 8 });
    // The same with notification switched off for good, and the pending bits cleared.
    await bad.cmd('poke', { region: 'doorbell', at: SIG_OFF_ENABLED, value: 0 });
    expect(await good.cmd('call', { handle, func: 1, len: 8, timeoutMs: 5000 })).toMatchObject({ ok: true });
    const late = spawn(3);
    await late.waitEvent((e) => e.event === 'ready');
    const h3 = await late.cmd('open', { dev: 0, timeoutMs: 5000 });
    expect(h3.handle).toBeGreaterThan(0);
    expect(await late.cmd('call', { handle: h3.handle, func: 1, len: 5, timeoutMs: 5000 })).toMatchObject({ ok: true, len: 5 });
  });

  it('a guest that overwrites the bus magic and the control header: a new guest still joins, the others keep working', async () => {
    const { ep, spawn } = makeBus('magic');
    ep.addDevice(0, 'test-echo', echoModel());
    const bad = spawn(1);
    const good = spawn(2);
    await bad.waitEvent((e) => e.event === 'ready');
    await good.waitEvent((e) => e.event === 'ready');
    const { handle } = await good.cmd('open', { dev: 0 });
    await bad.cmd('poke', { region: 'bus', at: BUS_OFF_MAGIC, value: 0 });
    await bad.cmd('poke', { region: 'busctl', at: BUSCTL_OFF_MAGIC, value: 0xdead });
    const late = spawn(3);
    const ready = await late.waitEvent((e) => e.event === 'ready');
    expect(ready.devices).toEqual([{ id: 0, type: 'test-echo' }]);
    expect(await good.cmd('call', { handle, func: 1, len: 8, timeoutMs: 5000 })).toMatchObject({ ok: true, len: 8 });
    expect(ep.hidden.headers).toBeGreaterThanOrEqual(1);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { makeBus as makeBusOn, releaseBuses } from './helpers/endpoint-bus.js';
import { TRANSPORTS } from './helpers/transports.js';
import { messageStats } from '../dist/src/index.js';
// @ts-expect-error plain ESM fixture
import { echoModel } from './fixtures/echo-model.mjs';

afterEach(releaseBuses);

describe.each(TRANSPORTS)('connector: calls through a call slot (%s transport)', (transport) => {
  const makeBus = (name: string, bytes?: number) => makeBusOn(name, bytes, { transport });

  it('enumerates and probes devices present at start, then calls sync and async with 0..max payloads', async () => {
    const { ep, spawn, mem } = makeBus('calls');
    const model = echoModel();
    ep.addDevice(0, 'test-echo', model);
    ep.addDevice(1, 'other-iface', echoModel());
    const g = spawn(100);
    const ready = await g.waitEvent((e) => e.event === 'ready');
    expect(ready.devices).toEqual([{ id: 0, type: 'test-echo' }, { id: 1, type: 'other-iface' }]);
    await g.waitEvent((e) => e.event === 'probe' && e.id === 0);
    expect(g.events.filter((e) => e.event === 'probe')).toHaveLength(1); // only the matching interface

    const { handle, payloadMax } = await g.cmd('open', { dev: 0 });
    expect(handle).toBeGreaterThan(0);
    for (const len of [0, 1, 7, 8, 63, 64, 1000, payloadMax - 1, payloadMax]) {
      const r = await g.cmd('call', { handle, func: 1, len, seed: len });
      expect(r.ok).toBe(true);
      expect(r.len).toBe(len);
      expect(r.sum).toBe(r.expect);
      const a = await g.cmd('callAsync', { handle, func: 2, len, seed: len + 1 });
      expect(a.len).toBe(len);
      expect(a.sum).toBe(a.expect);
    }
    const big = await g.cmd('call', { handle, func: 1, len: payloadMax + 1 });
    expect(big).toMatchObject({ ok: false, error: 'EINVAL' });
    const bigAsync = await g.cmd('callAsync', { handle, func: 1, len: payloadMax + 1 });
    expect(bigAsync).toMatchObject({ ok: false, error: 'EINVAL' });
    // the device's own errors come back with their code
    expect(await g.cmd('call', { handle, func: 3, len: 4 })).toMatchObject({ ok: false, error: 'EINVAL' });
    expect(await g.cmd('call', { handle, func: 99 })).toMatchObject({ ok: false, error: 'ENOSYS' });
    // a version the model refuses
    expect(await g.cmd('open', { dev: 0, version: 10 })).toMatchObject({ ok: false, error: 'ENOTSUP' });
    expect((await g.cmd('calls', { handle, func: 1, n: 2000 })).ok).toBe(2000);
    expect(model.log.filter((l: unknown[]) => l[0] === 'open')).toHaveLength(1);
    // The bus really ran on the transport named: batches carried the calls, or none did.
    const st = messageStats(mem);
    if (transport === 'message') expect(st!.batchesReceived).toBeGreaterThan(2000);
    else expect(st).toBeNull();
  });

  it('times out and aborts calls without wedging the slot', async () => {
    const { ep, spawn } = makeBus('timeouts');
    ep.addDevice(0, 'test-echo', echoModel());
    const g = spawn(1);
    await g.waitEvent((e) => e.event === 'ready');
    const { handle } = await g.cmd('open', { dev: 0 });
    expect(await g.cmd('call', { handle, func: 4, timeoutMs: 50 })).toMatchObject({ ok: false, error: 'ETIMEDOUT' });
    expect(await g.cmd('callAsync', { handle, func: 4, timeoutMs: 50 })).toMatchObject({ ok: false, error: 'ETIMEDOUT' });
    expect(await g.cmd('callAsync', { handle, func: 4, abortAfterMs: 30 })).toMatchObject({ ok: false, error: 'ECANCELED' });
    // Abandoned calls on a device that never answers keep the slot busy: the next call times out too,
    // and says so instead of hanging.
    expect(await g.cmd('call', { handle, func: 1, len: 4, timeoutMs: 50 })).toMatchObject({ ok: false, error: 'ETIMEDOUT' });
  });

  it('a slow answer after a timeout is discarded, and the next call gets its own reply', async () => {
    const { ep, spawn } = makeBus('late');
    ep.addDevice(0, 'test-echo', echoModel());
    const g = spawn(1);
    await g.waitEvent((e) => e.event === 'ready');
    const { handle } = await g.cmd('open', { dev: 0 });
    expect(await g.cmd('call', { handle, func: 2, len: 16, timeoutMs: 1 })).toMatchObject({ ok: false, error: 'ETIMEDOUT' });
    const r = await g.cmd('call', { handle, func: 1, len: 33, seed: 9 });
    expect(r).toMatchObject({ ok: true, len: 33 });
    expect(r.sum).toBe(r.expect);
  });

  it('delivers device events and shared regions', async () => {
    const { ep, spawn } = makeBus('events');
    const model = echoModel();
    ep.addDevice(0, 'test-echo', model);
    const g = spawn(1);
    await g.waitEvent((e) => e.event === 'ready');
    const { handle } = await g.cmd('open', { dev: 0 });
    await g.cmd('call', { handle, func: 5, len: 3 });
    const ev = await g.waitEvent((e) => e.event === 'devevent');
    expect(ev).toMatchObject({ deviceId: 0, handle, code: 7, arg: 42 });
    const tx = await g.cmd('txPush', { handle, queue: 0, bytes: 4096, n: 10, len: 100 });
    expect(tx.pushed).toBe(10);
    expect(model.log.some((l: unknown[]) => l[0] === 'shm' && l[1] === 1 && l[2] === 4096)).toBe(true);
    expect(await g.cmd('shm', { handle, queue: 1, bytes: 100, kind: 1 })).toMatchObject({ ok: false, error: 'EINVAL' }); // not a power of two
    expect(await g.cmd('shm', { handle, queue: 1, bytes: 1 << 30, kind: 3 })).toMatchObject({ ok: false, error: 'EINVAL' }); // above the buffer limit
    expect(await g.cmd('shm', { handle, queue: 1, bytes: 1 << 20, kind: 3 })).toMatchObject({ ok: false, error: 'ENOSPC' }); // does not fit this bus
    const buf = await g.cmd('shm', { handle, queue: 2, bytes: 4096, kind: 3 });
    expect(buf.region.bytes).toBe(4096);
  });
});

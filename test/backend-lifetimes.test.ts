// A handle never outlives the regions it names (backend placement): after an unplug the
// guest that still holds its handle gets ENODEV, and the slots placed for the next guest
// never sit where the stale handle points. Unplug under load: every call ends in success
// or ENODEV.
import { afterEach, describe, expect, it } from 'vitest';
import { VbusHost } from '../dist/src/index.js';
import { drive, SCRIPTED_URL } from './helpers/scripted.js';
// @ts-expect-error plain ESM fixture
import { echoClass } from './fixtures/echo-backend-model.mjs';

let host: VbusHost | undefined;
afterEach(async () => {
  if (host) { await host.connector.release(); host.release(); host = undefined; }
});

function setup() {
  host = new VbusHost();
  host.registerClass(echoClass);
  const bus = host.createBus('b0', { memoryBytes: 1 << 20 });
  const dev = host.createDevice('echo0');
  host.setType(dev, 'test-echo-dev');
  host.setPlacement(dev, 'backend');
  host.link(bus, dev);
  return { host, bus, dev };
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('backend placement: regions outlive the handles that name them', () => {
  it('a stale handle after unlink + relink answers ENODEV and never reaches the next guest\'s slots', async () => {
    const { host, bus, dev } = setup();
    const a = drive(host.spawnGuest(bus, SCRIPTED_URL, { data: { type: 'test-echo' } }));
    await a.waitEvent((e) => e.event === 'probe');
    const { handle: stale } = await a.cmd('open', { dev: 0 });
    expect(await a.cmd('call', { handle: stale, func: 1, len: 8 })).toMatchObject({ ok: true });
    for (let cycle = 0; cycle < 3; cycle++) {
      host.unlink(bus, dev);
      await settle(100); // the backend stops
      host.link(bus, dev);
      const b = drive(host.spawnGuest(bus, SCRIPTED_URL, { data: { type: 'test-echo' } }));
      const probe = await b.waitEvent((e) => e.event === 'probe');
      const { handle } = await b.cmd('open', { dev: probe.id });
      expect(await a.cmd('call', { handle: stale, func: 1, len: 8, timeoutMs: 3000 })).toMatchObject({ ok: false, error: 'ENODEV' });
      const r = await b.cmd('call', { handle, func: 1, len: 64, seed: cycle, timeoutMs: 3000 });
      expect(r).toMatchObject({ ok: true, len: 64 });
      expect(r.sum).toBe(r.expect);
      expect((await b.cmd('calls', { handle, func: 1, n: 200 })).ok).toBe(200);
      await b.cmd('exit');
      await b.guest.exited;
    }
    // Closing the stale handle at last returns what it held.
    await a.cmd('close', { handle: stale });
  });

  it('unplug under load: 100 cycles, every call ends in success or ENODEV', async () => {
    const { host, bus, dev } = setup();
    const g = drive(host.spawnGuest(bus, SCRIPTED_URL, { data: { type: 'test-echo' } }));
    let probe = await g.waitEvent((e) => e.event === 'probe');
    const outcomes = new Map<string, number>();
    const count = (k: string) => outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
    for (let cycle = 0; cycle < 100; cycle++) {
      const { handle } = await g.cmd('open', { dev: probe.id });
      expect(handle).toBeGreaterThan(0);
      const load = g.cmd('callsUntilError', { handle, func: 1, max: 100_000, timeoutMs: 3000 });
      await settle(cycle % 5);
      host.unlink(bus, dev);
      const r = await load;
      count(r.error ?? 'ok');
      await g.cmd('close', { handle });
      host.link(bus, dev);
      probe = await g.waitEvent((e) => e.event === 'probe' && (g.events.filter((x) => x.event === 'probe').length > cycle + 1));
      probe = g.events.filter((x) => x.event === 'probe').at(-1)!;
    }
    expect([...outcomes.keys()].filter((k) => k !== 'ENODEV' && k !== 'ok')).toEqual([]);
  });
});

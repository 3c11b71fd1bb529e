/**
 * Many busy guests on one host (issue: many guests on few cores): 256 guests, each on its
 * own bus with an echo device and a venet loopback, all working at once. Every guest
 * completes all of its calls and all of its ring traffic byte for byte (none starves:
 * the spin gate and the host's serving order leave nobody behind), and tearing it all
 * down leaves no member, no region and no thread. Counts, never times.
 */
import { describe, expect, it } from 'vitest';
import { VbusHost, registerVenetClasses, type Bus, type GuestWorker } from '../dist/src/index.js';
import { echoModel } from './fixtures/echo-model.mjs';

const GUESTS = 256;
const CALLS = 200;
const FRAMES = 20;
const GUEST_URL = new URL('./fixtures/guest-busy.mjs', import.meta.url);

function nextMessage(g: GuestWorker): Promise<any> {
  return new Promise((resolve, reject) => {
    g.onMessage(resolve);
    void g.exited.then((c) => reject(new Error(`guest exited with ${c}`)));
  });
}

describe(`${GUESTS} busy guests on one host`, () => {
  it('all make progress, and teardown leaves no member, region or thread behind', async () => {
    const host = new VbusHost();
    host.registerClass({ name: 'test-echo', interfaces: ['test-echo'], create: () => echoModel() });
    registerVenetClasses(host);
    const buses: Bus[] = [];
    const guests: GuestWorker[] = [];
    try {
      for (let i = 0; i < GUESTS; i++) {
        const bus = host.createBus(`many-${i}`, { memoryBytes: 512 << 10 });
        const echo = host.createDevice(`echo-${i}`);
        host.setType(echo, 'test-echo');
        expect(host.link(bus, echo)).toBe(0);
        const lo = host.createDevice(`lo-${i}`);
        host.setType(lo, 'venet-loopback');
        expect(host.link(bus, lo)).toBe(1);
        buses.push(bus);
      }
      // Start in batches of 32 (starting a worker is CPU-bound), then let all go at once.
      for (let i = 0; i < GUESTS; i += 32) {
        const batch = buses.slice(i, i + 32).map((bus, k) => host.spawnGuest(bus, GUEST_URL, { data: { calls: CALLS, frames: FRAMES, seed: i + k } }));
        await Promise.all(batch.map(nextMessage)); // ready
        guests.push(...batch);
      }
      expect(host.stats().members).toBe(GUESTS);
      const results = guests.map(nextMessage);
      for (const g of guests) g.postMessage('go');
      const done = await Promise.all(results);
      expect(done.map((r) => r.callsOk)).toEqual(Array(GUESTS).fill(CALLS));
      expect(done.map((r) => r.framesOk)).toEqual(Array(GUESTS).fill(FRAMES));
    } finally {
      await host.connector.release();
    }
    // Every guest thread has ended, and nothing of any of them remains on the host.
    const codes = await Promise.all(guests.map((g) => g.exited));
    expect(codes).toHaveLength(GUESTS);
    expect(host.stats().members).toBe(0);
    for (const bus of buses) expect(bus.memberCount).toBe(0);
    host.teardown();
    expect(host.stats()).toMatchObject({ devices: 0, buses: 0, members: 0, links: 0, busMemoryBytes: 0 });
    expect(buses.every((b) => b.memory.isReleased && b.memory.allocator!.usedBytes() === 0)).toBe(true);
    host.release();
  }, 300_000);
});

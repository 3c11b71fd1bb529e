// The platform layer's Node implementation: workers that attach to a bus memory and
// exchange records, worker lifecycle as the layer defines it, and the small helpers.
import { describe, expect, it } from 'vitest';
import {
  spawnWorker, workerContext, platform, randomBytes, hrtime, checkSharedMemory,
  isCrossOriginIsolated, isNodeRuntime, BusMemory, VbusError, RingConsumer, RingProducer, Notifier,
} from '../dist/src/internal.js';
import { EchoHost } from '../dist/src/demo/echo-host.js';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);

describe('node platform: a worker on a bus memory', () => {
  it('spawns the echo guest, which attaches and echoes seeded records byte for byte', async () => {
    expect(platform().name).toBe('node');
    const host = new EchoHost({ seed: 42, ringCapacity: 16384, maxLen: 700 });
    const w = spawnWorker(fixture('echo-guest.mjs'), host.start, { name: 'echo' });
    const messages: unknown[] = [];
    const errors: Error[] = [];
    w.onMessage((m) => messages.push(m));
    w.onError((e) => errors.push(e));
    const target = 50_000; // ~100 wrap-arounds of each ring
    await host.run(() => host.stats().received >= target);
    const code = await w.exited;
    const s = host.stats();
    expect(errors).toEqual([]);
    expect(code).toBe(0);
    expect(s.firstError).toBeNull();
    expect(s.mismatches).toBe(0);
    expect(s.verified).toBe(s.received);
    expect(s.received).toBeGreaterThanOrEqual(target);
    // The guest saw everything the host sent before it stopped, and said so.
    expect(messages[0]).toEqual({ type: 'echo-ready' });
    const done = messages[1] as { type: string; echoed: number };
    expect(done.type).toBe('echo-done');
    expect(done.echoed).toBe(s.guestEchoed);
    expect(done.echoed).toBeGreaterThanOrEqual(s.received);
    expect(done.echoed).toBeLessThanOrEqual(s.sent);
    // Both directions used the signal protocol (at least one wake-up each way).
    expect(s.toGuest.raised).toBeGreaterThan(0);
    expect(s.toHost.raised + s.toHost.suppressed).toBeGreaterThan(0);
  });

  it('catches a corrupted echo: one flipped byte in record 500 is one mismatch, named', async () => {
    const host = new EchoHost({ seed: 9, ringCapacity: 4096, maxLen: 64 });
    // A stand-in guest on the same thread (between the host's slices): echoes every
    // record, but flips the last byte of record 500.
    const input = new RingConsumer(host.bus, host.start.toGuest);
    const output = new RingProducer(host.bus, host.start.fromGuest);
    const wakeHost = new Notifier(host.bus, host.start.hostSignal);
    const buf = new Uint8Array(64);
    let seq = 0;
    const timer = setInterval(() => {
      let moved = 0;
      for (let len = input.pop(buf); len >= 0; len = input.pop(buf)) {
        if (seq === 500) buf[len - 1] = buf[len - 1]! ^ 0x40;
        expect(output.push(buf.subarray(0, len), input.tag)).toBe(0);
        seq++;
        moved++;
      }
      if (moved > 0) wakeHost.raise();
    }, 1);
    try {
      await host.run(() => host.stats().received >= 1000);
    } finally {
      clearInterval(timer);
    }
    const s = host.stats();
    expect(s.mismatches).toBe(1);
    expect(s.verified).toBe(s.received - 1);
    expect(s.firstError).toMatch(/^record 500 differs at byte \d+ of \d+$/);
  });
});

describe('node platform: worker lifecycle', () => {
  it('delivers messages posted before the worker listened, and reports exit(code)', async () => {
    const w = spawnWorker(fixture('platform-probe.mjs'), { action: 'echo-messages' });
    const got: unknown[] = [];
    w.onMessage((m) => got.push(m));
    w.postMessage('one');
    w.postMessage({ two: 2 });
    w.postMessage('bye');
    expect(await w.exited).toBe(3);
    expect(got).toEqual([
      { echo: 'one', index: 0 },
      { echo: { two: 2 }, index: 1 },
      { echo: 'bye', index: 2 },
    ]);
  });

  it('reports an uncaught error through onError, then exit code 1', async () => {
    const w = spawnWorker(fixture('platform-probe.mjs'), { action: 'throw', why: 'probe-7' });
    const errors: Error[] = [];
    w.onError((e) => errors.push(e));
    const exits: number[] = [];
    w.onExit((c) => exits.push(c));
    expect(await w.exited).toBe(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toContain('probe-7');
    expect(exits).toEqual([1]);
  });

  it('terminate() ends a live worker with code 1, and may be called again', async () => {
    const w = spawnWorker(fixture('platform-probe.mjs'), { action: 'idle' });
    await new Promise<void>((r) => w.onMessage(() => r()));
    expect(await w.terminate()).toBe(1);
    expect(await w.terminate()).toBe(1);
    w.postMessage('ignored after exit'); // no throw
    const late: number[] = [];
    w.onExit((c) => late.push(c));
    await Promise.resolve();
    expect(late).toEqual([1]);
  });

  it('shares a bus memory: a byte the worker never wrote is what the host wrote', async () => {
    const bus = BusMemory.create({ bytes: 65536 });
    const off = bus.allocRegion(64, 'probe');
    bus.u8[off] = 0xab;
    const w = spawnWorker(fixture('echo-guest.mjs'), { memory: bus.memory, module: bus.module, toGuest: { offset: off, capacity: 64 } });
    const errors: Error[] = [];
    w.onError((e) => errors.push(e));
    // The region at `off` is not a ring: attaching must fail with the ring check's message,
    // which proves the worker read the host's bytes through the shared memory.
    expect(await w.exited).toBe(1);
    expect(errors[0]).toBeDefined();
    expect(errors[0]!.message).toMatch(/no ring at offset \d+: magic 0xab/);
  });

  it('workerContext() on the main thread throws ENOTSUP', async () => {
    await expect(workerContext()).rejects.toMatchObject({ code: 'ENOTSUP' });
  });

  it('spawnWorker rejects a script that is not a URL with EINVAL', () => {
    expect(() => spawnWorker('./x.mjs' as unknown as URL, null)).toThrow(VbusError);
    expect(() => spawnWorker('./x.mjs' as unknown as URL, null)).toThrow(/must be a URL/);
  });
});

describe('platform helpers on Node', () => {
  it('shared memory is available and the check passes', () => {
    expect(isNodeRuntime()).toBe(true);
    expect(isCrossOriginIsolated()).toBe(true);
    expect(() => checkSharedMemory({ waitAsync: true })).not.toThrow();
  });

  it('randomBytes fills requests larger than one getRandomValues call', () => {
    const n = 65536 * 2 + 17;
    const a = randomBytes(n);
    const b = randomBytes(n);
    expect(a.length).toBe(n);
    // Every 64 KiB chunk got random bytes (a zero chunk would mean one was skipped).
    for (let at = 0; at < n; at += 65536) {
      const chunk = a.subarray(at, Math.min(n, at + 65536));
      expect(chunk.some((x) => x !== 0)).toBe(true);
    }
    expect(Buffer.compare(Buffer.from(a), Buffer.from(b))).not.toBe(0);
    expect(randomBytes(0).length).toBe(0);
    expect(() => randomBytes(-1)).toThrow(/non-negative integer/);
    expect(() => randomBytes(1.5)).toThrow(VbusError);
  });

  it('hrtime never goes backwards', () => {
    let last = hrtime();
    for (let i = 0; i < 10_000; i++) {
      const t = hrtime();
      expect(t).toBeGreaterThanOrEqual(last);
      last = t;
    }
  });
});

// `vbus top --once --json` against a runtime with traffic (the demo topology): the
// numbers move between two readings, and they match what the devices count themselves
// (their attributes, read by the runtime in the same turn as the stats region).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startRuntime, vbus } from './helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'vbus-top-'));
const env = { VBUS_RUNTIME_DIR: join(work, 'rt') };
let rt: Awaited<ReturnType<typeof startRuntime>>;
beforeAll(async () => { rt = await startRuntime(join(ROOT, 'examples/topologies/demo.yaml'), env, ['--name', 'toptest']); });
afterAll(async () => { await rt?.stop(); rmSync(work, { recursive: true, force: true }); });

interface Dev { name: string; type: string; calls: number; callBytesOut: number; records: number; polls: number; drops: number; latencySamples: number; latencyHistogram: number[]; own: Record<string, number> }
interface Ring { device: string; bus: string; direction: string; bytes: number; raised: number; suppressed: number; highWater: number; capacity: number; wakeups: number }
interface Reading { runtime: string; devices: Dev[]; rings: Ring[] }

function top(extra: string[] = []): Reading {
  const r = vbus(['--json', ...extra, 'top', '--once'], env);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Reading;
}

async function until(pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) { if (pred()) return; await new Promise((r) => setTimeout(r, 100)); }
  throw new Error(`timed out waiting for ${what}`);
}

describe('vbus top', () => {
  it('numbers move while traffic flows, and match the devices\' own counters', async () => {
    let a = top();
    await until(() => { a = top(); return (a.devices.find((d) => d.name === 'sw0')?.records ?? 0) > 0 && (a.devices.find((d) => d.name === 'disk0')?.records ?? 0) > 0; }, 'traffic');
    let b = top();
    await until(() => { b = top(); const x = b.devices.find((d) => d.name === 'sw0')!; return x.records > a.devices.find((d) => d.name === 'sw0')!.records; }, 'the counters to move');
    expect(b.runtime).toBe('toptest');
    const dev = (r: Reading, n: string): Dev => r.devices.find((d) => d.name === n)!;
    expect(b.devices.map((d) => d.name).sort()).toEqual(['con0', 'disk0', 'rng0', 'sw0']);
    for (const n of ['sw0', 'disk0']) {
      expect(dev(b, n).records).toBeGreaterThan(dev(a, n).records);
      expect(dev(b, n).polls).toBeGreaterThan(dev(a, n).polls);
    }
    const ringBytes = (r: Reading) => r.rings.filter((x) => x.device === 'sw0').reduce((s, x) => s + x.bytes, 0);
    expect(ringBytes(b)).toBeGreaterThan(ringBytes(a));
    for (const r of [a, b]) {
      // The switch counts a record per frame it takes from a port: its rx_frames.
      expect(dev(r, 'sw0').records).toBe(dev(r, 'sw0').own['rx_frames']);
      expect(dev(r, 'sw0').drops).toBe(dev(r, 'sw0').own['drops']);
      // The disk completes a record per request: reads + writes + flushes.
      const d = dev(r, 'disk0');
      expect(d.records).toBe(d.own['reads']! + d.own['writes']! + d.own['flushes']!);
      // Entropy: a call per request, the reply bytes are the bytes served.
      const g = dev(r, 'rng0');
      expect(g.calls).toBe(g.own['requests']);
      expect(g.callBytesOut).toBe(g.own['bytes_served']);
      expect(g.latencyHistogram.reduce((s, x) => s + x, 0)).toBe(g.latencySamples);
      for (const ring of r.rings) {
        expect(ring.highWater).toBeLessThanOrEqual(ring.capacity);
        expect(['left', 'right']).toContain(ring.bus);
      }
    }
    // Every ring the guests opened is there: the switch's TX, RX and event ring on each bus.
    for (const bus of ['left', 'right']) {
      expect(b.rings.filter((x) => x.device === 'sw0' && x.bus === bus).map((x) => x.direction).sort()).toEqual(['to-device', 'to-guest', 'to-guest']);
    }
  });

  it('the refreshing view prints a table per bus device and ring', () => {
    const r = vbus(['top', '--count', '2', '--interval', '200'], env);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.match(/^vbus top: runtime toptest/mg)).toHaveLength(2);
    expect(r.stdout).toMatch(/^sw0\s+venet-switch\s+left:0,right:0\s/m);
    expect(r.stdout).toMatch(/^disk0\s+left\s+\d+\s+0\s+to-device\s/m);
  });
});

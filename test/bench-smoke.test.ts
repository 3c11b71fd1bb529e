// Smoke test of the ring benchmark: runs `bench/run` in --quick mode into a temporary
// results file and checks the file's shape. It measures nothing (no timing assertions);
// it proves every implementation ran end to end, with every record checked by the
// consumer (a wrong record makes the bench exit non-zero).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'vbus-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Row { case: string; impl: string; bytes: number; opsPerSec: number; p50us?: number; p99us?: number; placement: string }

describe('npm run bench -- ring --quick', () => {
  it('writes a result row for every implementation, with sane numbers', () => {
    const out = join(dir, 'ring.json');
    execFileSync(process.execPath, ['dist/bench/run.js', 'ring', '--quick', '--no-progress'], {
      cwd: root, env: { ...process.env, VBUS_BENCH_OUT: out }, stdio: 'pipe', timeout: 60_000,
    });
    const result = JSON.parse(readFileSync(out, 'utf8')) as { machine: Record<string, unknown>; pinning: boolean; rows: Row[] };
    expect(result.machine).toMatchObject({ cpus: expect.any(Number), model: expect.any(String), node: process.version });
    const rows = result.rows;

    const oneway = ['vbus', 'vbus-batched', 'vbus-reserve', 'js-ring', 'ringbuf.js', 'postMessage', 'memcpy'];
    for (const size of [16, 64, 1500, 65536]) {
      for (const impl of oneway) {
        const r = rows.find((x) => x.case === `oneway-${size}B` && x.impl === impl);
        expect(r, `oneway-${size}B ${impl}`).toBeDefined();
        expect(r!.bytes).toBe(size);
        expect(r!.opsPerSec).toBeGreaterThan(0);
      }
    }

    const placements = result.pinning ? ['same-core', 'different-cores'] : ['unpinned'];
    for (const placement of placements) {
      for (const impl of ['atomics-wait', 'vbus-adaptive', 'postMessage']) {
        const r = rows.find((x) => x.case === 'rtt-signal' && x.impl === impl && x.placement === placement);
        expect(r, `rtt ${impl} ${placement}`).toBeDefined();
        expect(r!.opsPerSec).toBeGreaterThan(0);
        expect(r!.p50us).toBeGreaterThan(0);
        expect(r!.p50us!).toBeLessThanOrEqual(r!.p99us!);
      }
    }
    for (const r of rows) expect(['same-core', 'different-cores', 'unpinned']).toContain(r.placement);
  }, 90_000);

  it('refuses an unknown benchmark name with exit code 2 and names it', () => {
    let status = 0;
    let stderr = '';
    try {
      execFileSync(process.execPath, ['dist/bench/run.js', 'nosuchbench'], { cwd: root, stdio: 'pipe' });
    } catch (e) {
      const err = e as { status: number; stderr: Buffer };
      status = err.status;
      stderr = err.stderr.toString();
    }
    expect(status).toBe(2);
    expect(stderr).toContain("unknown benchmark 'nosuchbench'");
  });
});

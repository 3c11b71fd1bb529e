// Smoke test of `npm run bench -- path --quick`: every case runs on all three paths
// (vbus-backend, vbus-host, qemu-like) end to end and the result file has the rows the
// README's table and plot are made from. It measures nothing (no timing assertions).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'vbus-bench-path-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Row { case: string; impl: string; bytes: number; opsPerSec: number; p50us: number; p99us: number; placement: string }

describe('npm run bench -- path --quick', () => {
  it('writes a row per case and path, and the plot draws from it', () => {
    const out = join(dir, 'path.json');
    execFileSync(process.execPath, ['dist/bench/run.js', 'path', '--quick', '--no-progress'], {
      cwd: root, env: { ...process.env, VBUS_BENCH_OUT: out }, stdio: 'pipe', timeout: 110_000,
    });
    const rows = (JSON.parse(readFileSync(out, 'utf8')) as { rows: Row[] }).rows;
    const cases = ['frame-64B', 'frame-1500B', 'read-4k-qd1', 'read-4k-qd32', 'call-8B'];
    expect(rows.map((r) => `${r.case} ${r.impl}`)).toEqual(cases.flatMap((c) => ['vbus-backend', 'vbus-host', 'qemu-like'].map((i) => `${c} ${i}`)));
    for (const r of rows) {
      expect(r.opsPerSec, `${r.case} ${r.impl}`).toBeGreaterThan(0);
      expect(r.p50us).toBeGreaterThan(0);
      expect(r.p99us).toBeGreaterThanOrEqual(r.p50us);
      expect(r.placement).toBe('unpinned');
    }
    expect(rows.find((r) => r.case === 'frame-1500B')!.bytes).toBe(1500);
    const svg = join(dir, 'path.svg');
    execFileSync(process.execPath, ['dist/bench/path/plot.js', out, svg], { cwd: root, stdio: 'pipe', timeout: 60_000 });
    const text = readFileSync(svg, 'utf8');
    expect(text.startsWith('<svg')).toBe(true);
    for (const c of cases) expect(text).toContain(`case: ${c}; impl: qemu-like`);
  }, 180_000);
});

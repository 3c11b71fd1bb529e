// Smoke test of `npm run bench -- scale --quick`: every impl ran at N = 1 and 4 with all
// its workers reporting, fairness is a ratio, the switch, shared-disk (one queue per bus,
// and multiqueue on one bus) and memory rows exist, and the plot was drawn. It measures nothing (no timing assertions).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'vbus-scale-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Row { case: string; impl: string; opsPerSec: number; fairness?: number; guests?: number; bytes: number; note?: string; backendThreads?: number }

describe('npm run bench -- scale --quick', () => {
  it('writes rows for every impl and N, and the plot', () => {
    const out = join(dir, 'scale.json');
    execFileSync(process.execPath, ['dist/bench/run.js', 'scale', '--quick', '--no-progress'], {
      cwd: root, env: { ...process.env, VBUS_BENCH_OUT: out }, stdio: 'pipe', timeout: 120_000,
    });
    const rows = (JSON.parse(readFileSync(out, 'utf8')) as { rows: Row[] }).rows;
    for (const n of [1, 4]) {
      for (const impl of ['vbus-host', 'vbus-backend', 'postMessage', 'piscina']) {
        const r = rows.find((x) => x.case === `calls-${n}guests` && x.impl === impl);
        expect(r, `calls-${n}guests ${impl}`).toBeDefined();
        expect(r!.opsPerSec).toBeGreaterThan(0);
        expect(r!.guests).toBe(n);
        expect(r!.fairness).toBeGreaterThanOrEqual(0);
        expect(r!.fairness).toBeLessThanOrEqual(1);
        expect(r!.note).not.toMatch(/errors/);
      }
    }
    for (const c of ['switch-2guests-64B', 'switch-4guests-64B', 'vdisk-1guests-4k', 'vdisk-4guests-4k', 'vdisk-4guests-mq-4k']) {
      for (const impl of ['vbus-host', 'vbus-backend']) expect(rows.find((x) => x.case === c && x.impl === impl)?.opsPerSec, `${c} ${impl}`).toBeGreaterThan(0);
    }
    // Backend rows say how many pool threads served them: at least one, at most one per core.
    const cores = availableParallelism();
    for (const r of rows.filter((x) => x.impl === 'vbus-backend')) {
      expect(r.backendThreads, `${r.case} backendThreads`).toBeGreaterThanOrEqual(1);
      expect(r.backendThreads!).toBeLessThanOrEqual(cores);
    }
    expect(rows.map((r) => r.case)).toEqual(expect.arrayContaining(['mem-idle-bus', 'mem-idle-guest', 'cpu-idle-guest']));
    const idleCpu = rows.find((x) => x.case === 'cpu-idle-guest') as { cpuUsPerSec?: number } | undefined;
    expect(idleCpu?.cpuUsPerSec).toBeGreaterThanOrEqual(0); // a measured number, not left out
    const svg = readFileSync(join(dir, 'scale.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('vbus-host');
    expect(svg).toContain('piscina');
  }, 150_000);
});

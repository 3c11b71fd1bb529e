// Smoke test of the demo (`npm start`): a short run must exit 0, report non-zero rates,
// and say every record came back byte-exact. No timing assertions: any rate above zero
// passes.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

describe('npm start (demo)', () => {
  it('streams, verifies and reports rates and signal statistics', () => {
    const r = spawnSync(process.execPath, ['dist/src/demo/main.js', '--duration', '0.5'], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr + r.stdout).toBe(0);
    const out = r.stdout;
    expect(out).toContain('all verified byte-exact');
    const m = /records\s+(\d+) sent and returned/.exec(out);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0);
    const rate = /throughput\s+([\d.]+)\s*([kMG]?) records\/s/.exec(out);
    expect(rate).not.toBeNull();
    expect(Number(rate![1])).toBeGreaterThan(0);
    expect(out).toMatch(/wake-ups raised \d+, suppressed \d+/);
  });

  it('rejects a bad option with a message naming it and a non-zero exit', () => {
    const r = spawnSync(process.execPath, ['dist/src/demo/main.js', '--duration', 'abc'], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('--duration abc');
  });
});

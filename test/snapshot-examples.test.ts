// The README's samples for device state, record/replay, save/restore and migration
// (examples/device-state.mjs, record-replay.mjs, save-restore.mjs, migrate.mjs) run and
// print what they say.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

function run(file: string): string {
  const r = spawnSync(process.execPath, [file], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe('README samples: save, restore, record and replay', () => {
  it('each program\'s guest is a file beside it that it starts', () => {
    expect(readFileSync(join(ROOT, 'examples/record-replay.mjs'), 'utf8')).toContain('./record-replay-guest.mjs');
    expect(readFileSync(join(ROOT, 'examples/save-restore.mjs'), 'utf8')).toContain('./save-restore-guest.mjs');
    expect(readFileSync(join(ROOT, 'examples/migrate.mjs'), 'utf8')).toContain('./save-restore-guest.mjs');
    for (const f of ['examples/record-replay-guest.mjs', 'examples/save-restore-guest.mjs']) expect(existsSync(join(ROOT, f)), f).toBe(true);
  });

  it('examples/device-state.mjs loads a saved vdisk into a fresh runtime and refuses a newer version', () => {
    const out = run('examples/device-state.mjs');
    expect(out).toContain('restored capacity 65536');
    expect(out).toContain('ENOTSUP: vdisk state version 2 cannot be loaded into d1: this vdisk writes version 1 and loads 1 (the state is from a newer runtime)');
  });

  it('examples/record-replay.mjs replays a recorded vrng run with no mismatch', () => {
    expect(run('examples/record-replay.mjs')).toMatch(/^replayed \d+ steps, ok: true, mismatches: 0, requests: 10$/m);
  });

  it('examples/save-restore.mjs saves a bus with a running guest and continues it in another process', () => {
    const out = run('examples/save-restore.mjs');
    const saved = Number(/the device had served (\d+)/.exec(out)?.[1]);
    const m = /resumed at (\d+) reads, now (\d+); the device served (\d+)/.exec(out);
    expect(m, out).not.toBeNull();
    expect(Number(m![1])).toBe(saved); // the guest's own count and the device's agree at the safe point
    expect(Number(m![2])).toBe(saved + 5);
    expect(Number(m![3])).toBeGreaterThanOrEqual(saved + 5); // the device counts on from its saved counters
  });

  it('examples/migrate.mjs moves a bus with a running guest to another process, which continues it', () => {
    const out = run('examples/migrate.mjs');
    expect(out, out).toMatch(/^migrated lan0: downtime [\d.]+ ms; buses left here: 0$/m);
    const m = /^target: resumed at (\d+) reads, now (\d+); the device served (\d+)$/m.exec(out);
    expect(m, out).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(3); // it went on from the count it had, not from 0
    expect(Number(m![2])).toBe(Number(m![1]) + 5);
    expect(Number(m![3])).toBeGreaterThanOrEqual(Number(m![2])); // the device's counters came along
  });
});

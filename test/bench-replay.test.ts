// The replay benchmark takes a recording as input: a recording made through the API is
// written to a file, `npm run bench -- replay --recording FILE --quick` replays it and
// writes a row for it; a damaged file makes the run fail naming the file.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recordDevice, encodeRecording } from '../dist/src/index.js';
import { ok, stateGuest, useHosts } from './helpers/state-host.js';

const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'vbus-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const makeHost = useHosts();

describe('npm run bench -- replay --recording FILE', () => {
  it('replays a recorded loopback run and reports it; refuses a damaged file', async () => {
    const h = makeHost();
    const bus = h.createBus('lan0', { memoryBytes: 8 << 20 });
    const dev = h.createDevice('lo0');
    h.setType(dev, 'venet-loopback');
    const recorder = recordDevice(dev);
    h.link(bus, dev);
    const g = await stateGuest(h, bus);
    const n = await ok(g, 'openNet', { dev: 0 });
    await ok(g, 'sendFrames', { dev: 0, dst: n.mac, from: 0, count: 100, len: 500 });
    await ok(g, 'frames', { dev: 0, atLeast: 100 });
    h.unlink(bus, dev);
    const rec = recorder.stop();
    const file = join(dir, 'lo0.rec');
    writeFileSync(file, encodeRecording(rec));
    const out = join(dir, 'replay.json');
    execFileSync(process.execPath, ['dist/bench/run.js', 'replay', '--recording', file, '--quick', '--no-progress'], {
      cwd: root, env: { ...process.env, VBUS_BENCH_OUT: out }, stdio: 'pipe', timeout: 60_000,
    });
    const rows = JSON.parse(readFileSync(out, 'utf8')).rows as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ case: 'replay-lo0.rec', impl: 'venet-loopback-model', placement: 'unpinned' });
    expect(rows[0]!['opsPerSec']).toBeGreaterThan(0);
    expect(rows[0]!['note']).toContain(`${rec.steps.length} steps`);

    const bad = readFileSync(file);
    bad[bad.length >> 1] ^= 0x10;
    writeFileSync(file, bad);
    let stderr = '';
    try {
      execFileSync(process.execPath, ['dist/bench/run.js', 'replay', '--recording', file, '--quick', '--no-progress'], { cwd: root, env: { ...process.env, VBUS_BENCH_OUT: out }, stdio: 'pipe', timeout: 60_000 });
    } catch (e) { stderr = String((e as { stderr: Buffer }).stderr); }
    expect(stderr).toContain(`${file} is not a valid vbus recording file: checksum mismatch`);
  }, 90_000);
});

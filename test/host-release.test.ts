// VbusHost.release() releases everything the host started: guest workers, bus endpoints
// and their serve loop, backend workers (and the pool threads that ran them), timers.
// A child process starts a host with a guest on each of two buses (one device placed in
// a backend worker, one in the host thread), calls through both, releases the host and
// reports what is still alive; it never calls process.exit, so it must also end on its own.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const RUNNER = fileURLToPath(new URL('./fixtures/host-release-runner.mjs', import.meta.url));

describe('VbusHost.release()', () => {
  it('leaves no guest, worker thread or handle behind, and the process ends on its own', () => {
    const r = spawnSync(process.execPath, [RUNNER], { encoding: 'utf8', timeout: 60_000 });
    expect(r.error, 'the process did not end on its own').toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
      calls: Array<{ placement: string; ok: boolean }>; running: number; runningAfter: number;
      left: string[]; threadsBefore: number | null; threadsAfter: number | null;
    };
    expect(report.calls).toEqual([{ placement: 'backend', ok: true }, { placement: 'host', ok: true }]);
    expect(report.running).toBe(2);
    expect(report.runningAfter).toBe(0);
    expect(report.left).toEqual([]); // no timer, port or socket the host opened is still open
    if (report.threadsBefore !== null) expect(report.threadsAfter).toBe(report.threadsBefore); // guest and backend threads ended
  });
});

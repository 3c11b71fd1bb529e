// examples/control-api.mjs, the README's control-socket sample, runs and prints what it says.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'vbus-api-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('examples/control-api.mjs', () => {
  it('serves its host on a control socket, answers a tree, grants a bus, and exits', () => {
    const r = spawnSync(process.execPath, ['examples/control-api.mjs', '--once'], {
      cwd: ROOT, encoding: 'utf8', timeout: 30_000, env: { ...process.env, VBUS_RUNTIME_DIR: join(work, 'rt'), VBUS_GRANT_DIR: join(work, 'g') },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`listening on ${join(work, 'rt', 'api-example.sock')}`);
    expect(r.stdout).toContain('/sys/vbus/instances\n`-- vm1\n');
    expect(r.stdout).toContain("delegate sees [ 'vm1' ]");
  });
});

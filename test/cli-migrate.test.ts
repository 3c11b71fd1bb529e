// `vbus migrate BUS --to RUNTIME`: a runtime started from a topology file moves its bus,
// with its devices and the guest that ticks on a vrng, to another running runtime; the
// guest goes on counting there, the device keeps its configuration and counters, and the
// source is left without the bus. A target that does not exist changes nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, startRuntime, vbus } from './helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'vbus-cli-migrate-'));
const env = { VBUS_RUNTIME_DIR: join(work, 'rt'), VBUS_GRANT_DIR: join(work, 'grants') };
afterAll(() => rmSync(work, { recursive: true, force: true }));

const on = (runtime: string, args: string[]) => vbus(['--runtime', runtime, ...args], env);
const requests = (runtime: string): number => Number(on(runtime, ['cat', '/config/vbus/devices/rng0/requests']).stdout);

async function until(pred: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) { if (Date.now() > end) throw new Error('condition not met in time'); await new Promise((r) => setTimeout(r, 50)); }
}

describe('vbus migrate', () => {
  it('moves a running bus to another runtime, where its guest goes on; a missing target changes nothing', async () => {
    const src = await startRuntime(join(ROOT, 'test/fixtures/topologies/snapshot.yaml'), env);
    const dst = await startRuntime(join(ROOT, 'test/fixtures/topologies/migrate-target.yaml'), env);
    try {
      await until(() => requests('snaptest') >= 5);
      const missing = on('snaptest', ['migrate', 'lan0', '--to', 'nosuch']);
      expect(missing.status).not.toBe(0);
      expect(missing.stderr).toMatch(/cannot reach a migration target at .*nosuch\.migrate/);
      const before = requests('snaptest');
      await until(() => requests('snaptest') > before + 3); // the guest runs on at the source

      const r = on('snaptest', ['--json', 'migrate', 'lan0', '--to', 'migtarget']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const res = JSON.parse(r.stdout);
      expect(res).toMatchObject({ buses: ['lan0'] });
      expect(res.target).toContain('migtarget.migrate');
      console.log(`vbus migrate: downtime ${res.downtimeMs.toFixed(1)} ms, total ${res.totalMs.toFixed(0)} ms`);

      expect(on('snaptest', ['ls', '/sys/vbus/instances']).stdout.trim()).toBe(''); // the source let go
      expect(on('migtarget', ['cat', '/config/vbus/devices/d0/block_size']).stdout).toBe('4096\n');
      const moved = requests('migtarget');
      expect(moved).toBeGreaterThanOrEqual(before + 3); // the device's counters came along
      await until(() => requests('migtarget') > moved + 5); // and the guest counts on there
      expect(on('migtarget', ['ls', '/sys/vbus/instances/lan0/devices']).stdout.split(/\s+/).filter(Boolean)).toEqual(['0', '1']);
    } finally {
      await src.stop();
      await dst.stop();
    }
  }, 120_000);
});

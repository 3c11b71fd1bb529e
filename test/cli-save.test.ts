// `vbus save BUS FILE` and `vbus run --restore FILE`: a runtime started from a topology
// file is saved while its guest runs; a new runtime restores the file, the device keeps
// its counters and configuration, and the guest goes on from its saved state.
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeSnapshot } from '../dist/src/internal.js';
import { ROOT, startRuntime, vbus } from './helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'vbus-cli-save-'));
const env = { VBUS_RUNTIME_DIR: join(work, 'rt'), VBUS_GRANT_DIR: join(work, 'grants') };
afterAll(() => rmSync(work, { recursive: true, force: true }));

const requests = (): number => Number(vbus(['cat', '/config/vbus/devices/rng0/requests'], env).stdout);

async function until(pred: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) { if (Date.now() > end) throw new Error('condition not met in time'); await new Promise((r) => setTimeout(r, 50)); }
}

describe('vbus save and vbus run --restore', () => {
  it('saves a running bus to a file; a new runtime restores it and the guest goes on', async () => {
    const rt = await startRuntime(join(ROOT, 'test/fixtures/topologies/snapshot.yaml'), env);
    const file = join(work, 'lan0.vbsnap');
    try {
      await until(() => requests() >= 5);
      const r = vbus(['--json', 'save', 'lan0', file], env);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ file, buses: ['lan0'] });
    } finally {
      await rt.stop();
    }
    expect(existsSync(file)).toBe(true);
    const snap = decodeSnapshot(new Uint8Array(readFileSync(file)), file);
    const ticks = (snap.members[0]!.guest!.state as { ticks: number }).ticks;
    const saved = (snap.devices.find((d) => d.name === 'rng0')!.state.data as { totals: { requests: number } }).totals.requests;
    expect(ticks).toBeGreaterThanOrEqual(5);
    expect(saved).toBe(ticks); // quiesced: every read the guest counted was served, and no other

    // `vbus run --restore FILE` (the helper passes '--restore' where it would pass a topology file)
    const rt2 = await startRuntime('--restore', env, [file]);
    try {
      expect(vbus(['cat', '/config/vbus/devices/d0/block_size'], env).stdout).toBe('4096\n');
      expect(vbus(['cat', `/proc/${snap.members[0]!.id}/vbus`], env).stdout).toBe('lan0\n');
      await until(() => requests() > saved + 5); // counting on from the saved count: the guest runs again
      expect(vbus(['ls', '/sys/vbus/instances/lan0/devices'], env).stdout.split(/\s+/).filter(Boolean)).toEqual(['0', '1']);
    } finally {
      await rt2.stop();
    }
    const bad = vbus(['run', '--restore', join(work, 'missing.vbsnap')], env);
    expect(bad.status).toBe(2); // ENOENT
    expect(bad.stderr).toContain('missing.vbsnap');
  }, 120_000);
});

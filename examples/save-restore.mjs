// Save a bus with its device and its running guest, and continue it in another process.
// Run: node examples/save-restore.mjs   (it restores itself with --restore FILE)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VbusHost, vrngClass, saveBuses, restoreBuses } from 'vbus';

const host = new VbusHost();
host.registerClass(vrngClass);
const at = process.argv.indexOf('--restore');

if (at < 0) {
  const bus = host.createBus('lan0', { memoryBytes: 1 << 20 });
  host.setType(host.createDevice('rng0'), 'vrng');
  host.link(bus, 'rng0');
  host.spawnGuest(bus, new URL('./save-restore-guest.mjs', import.meta.url));
  while (Number(host.device('rng0').attr('requests')) < 3) await new Promise((r) => setTimeout(r, 10)); // the guest runs
  const bytes = await saveBuses(host, ['lan0']);        // quiesce, save, stop the guests
  const file = join(mkdtempSync(join(tmpdir(), 'vbus-example-')), 'lan0.vbsnap');
  writeFileSync(file, bytes);
  console.log(`saved lan0 (${bytes.length} bytes); the device had served ${host.device('rng0').attr('requests')}`);
  await host.connector.release();
  host.release();
  process.stdout.write(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--restore', file], { encoding: 'utf8', timeout: 30_000 }));
} else {
  // ... in another process, a fresh host with the classes registered:
  const file = process.argv[at + 1];
  const { guests } = restoreBuses(host, readFileSync(file), file);
  const [g] = guests.values();
  g.onMessage((m) => {
    console.log(`resumed at ${m.resumedFrom} reads, now ${m.ticks}; the device served ${host.device('rng0').attr('requests')}`);
    void host.connector.release().then(() => host.release());
  });
}

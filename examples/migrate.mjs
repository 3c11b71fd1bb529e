// Move a running bus, with its device and its guest, to another process: live migration.
// Run: node examples/migrate.mjs   (it starts its own target with --target SOCKET)
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { VbusHost, vrngClass } from 'vbus';
import { migrate, listenForMigration } from 'vbus/migrate';

const host = new VbusHost();
host.registerClass(vrngClass);
const at = process.argv.indexOf('--target');

if (at >= 0) {
  // The target: a runtime that listens; the buses that arrive run here.
  const onMigrated = ({ guests }) => {
    const [g] = guests.values();
    g.onMessage((m) => {
      console.log(`target: resumed at ${m.resumedFrom} reads, now ${m.ticks}; the device served ${host.device('rng0').attr('requests')}`);
      void listener.close().then(() => host.connector.release()).then(() => host.release());
    });
  };
  const listener = await listenForMigration(host, { path: process.argv[at + 1] }, { onMigrated });
  console.log('listening');
} else {
  const bus = host.createBus('lan0', { memoryBytes: 1 << 20 });
  host.setType(host.createDevice('rng0'), 'vrng');
  host.link(bus, 'rng0');
  host.spawnGuest(bus, new URL('./save-restore-guest.mjs', import.meta.url));
  while (Number(host.device('rng0').attr('requests')) < 3) await new Promise((r) => setTimeout(r, 10)); // the guest runs
  const path = join(mkdtempSync(join(tmpdir(), 'vbus-example-')), 'migrate.sock');
  const target = spawn(process.execPath, [fileURLToPath(import.meta.url), '--target', path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const said = createInterface({ input: target.stdout })[Symbol.asyncIterator]();
  await said.next();                                      // 'listening'
  const r = await migrate(host, ['lan0'], { path });      // pre-copy, stop, copy the rest, resume there
  console.log(`migrated lan0: downtime ${r.downtimeMs.toFixed(1)} ms; buses left here: ${host.buses().length}`);
  for (let line = await said.next(); !line.done; line = await said.next()) console.log(line.value);
  await host.connector.release();
  host.release();
}

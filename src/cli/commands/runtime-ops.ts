/** `vbus spawn`, `vbus grant`, `vbus save`, `vbus migrate`, `vbus stop`, `vbus ps`: the runtime's own operations. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { withClient, type GlobalOptions } from '../connect.js';
import { json } from '../options.js';

export function runtimeCommands(program: Command): void {
  program.command('spawn').description('start a guest worker (an ES module) on a bus; prints its member id (/proc/ID/vbus)')
    .argument('<bus>').argument('<script>', 'path of the guest module (on this machine)')
    .option('--data <json>', 'passed to the guest as guest.data', json)
    .option('--name <name>', 'worker name')
    .action(async (bus: string, script: string, o: { data?: unknown; name?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const r = await withClient(g, (c) => c.request('spawn', { bus, script: resolve(script), ...(o.data !== undefined ? { data: o.data } : {}), ...(o.name ? { name: o.name } : {}) }));
      process.stdout.write(g.json ? JSON.stringify(r) + '\n' : `${r.member}\n`);
    });
  program.command('grant').description('issue a capability for one bus: its holder sees and administers that bus alone')
    .argument('<bus>')
    .action(async (bus: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const r = await withClient(g, (c) => c.request('grant', { bus }));
      process.stdout.write(g.json ? JSON.stringify(r) + '\n' : `VBUS_SOCKET=${r.socket}\nVBUS_TOKEN=${r.token}\n`);
    });
  program.command('save').description('save buses (comma-separated: a switch spans them) with their devices and guests to a snapshot file; the guests stop (vbus run --restore FILE continues them)')
    .argument('<buses>', 'bus name, or names separated by commas').argument('<file>', 'snapshot file to write')
    .action(async (buses: string, file: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const r = await withClient(g, (c) => c.request('save', { buses: buses.split(',').filter((b) => b !== ''), file: resolve(file) }));
      process.stdout.write(g.json ? JSON.stringify(r) + '\n' : `saved ${r.buses.join(', ')} to ${r.file} (${r.bytes} bytes)\n`);
    });
  program.command('migrate').description('move running buses (comma-separated: a switch spans them) with their devices and guests to another runtime; the guests continue there')
    .argument('<buses>', 'bus name, or names separated by commas')
    .requiredOption('--to <runtime>', 'the target: a runtime name in your runtime directory, or the path of its migration socket')
    .action(async (buses: string, o: { to: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const { migrationPath } = await import('../../control/runtime-dir.js');
      const to = o.to.includes('/') ? resolve(o.to) : migrationPath(o.to);
      const r = await withClient(g, (c) => c.request('migrate', { buses: buses.split(',').filter((b) => b !== ''), to }));
      process.stdout.write(g.json ? JSON.stringify(r) + '\n' : `migrated ${r.buses.join(', ')} to ${r.target}: downtime ${r.downtimeMs.toFixed(1)} ms, ${r.rounds} pre-copy rounds\n`);
    });
  program.command('stop').description('stop the runtime (its guests, devices, buses and socket)')
    .action(async (_o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withClient(g, (c) => c.request('stop'));
      if (g.json) process.stdout.write('null\n');
    });
  program.command('ps').description('list the runtimes in your runtime directory and whether they answer')
    .action(async (_o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const { listRuntimes } = await import('../../control/client.js');
      const list = await listRuntimes();
      if (g.json) { process.stdout.write(JSON.stringify(list) + '\n'); return; }
      const rows = [['NAME', 'PID', 'BUSES', 'SINCE', 'SOCKET']];
      for (const r of list) {
        rows.push(r.hello
          ? [r.name, String(r.hello.pid), r.hello.buses.join(',') || '-', r.hello.startedAt, r.socket]
          : [r.name, '-', `(${r.error?.code ?? 'EIO'})`, '-', r.socket]);
      }
      const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      process.stdout.write(rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]!))).join('  ')).join('\n') + '\n');
    });
}

/**
 * The path-view commands against a running runtime: `ls`, `tree`, `cat`, `readlink`,
 * `write`, `mkdir`, `rmdir`, `ln`, `rm`, plus `modprobe`/`rmmod` (register or drop a
 * built-in class). Each does exactly what `adminView(host)` does in the runtime, and prints
 * what the shell commands of the original walkthrough print.
 */
import type { Command } from 'commander';
import { withClient, type GlobalOptions } from '../connect.js';

const print = (g: GlobalOptions, value: unknown, text: () => string): void => {
  process.stdout.write(g.json ? JSON.stringify(value) + '\n' : text());
};

export function adminCommands(program: Command): void {
  program.command('ls').description('list a directory of the path view').argument('<path>')
    .action(async (path: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const names = await withClient(g, (c) => c.request('ls', { path }));
      print(g, names, () => names.map((n) => n + '\n').join(''));
    });
  program.command('tree').description('print a directory tree of the path view, as tree(1) does').argument('<path>')
    .action(async (path: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const t = await withClient(g, (c) => c.request('tree', { path }));
      print(g, t, () => t);
    });
  program.command('cat').description('print a file of the path view').argument('<path>')
    .action(async (path: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const t = await withClient(g, (c) => c.request('cat', { path }));
      print(g, t, () => t);
    });
  program.command('readlink').description('print the target of a symbolic link').argument('<path>')
    .action(async (path: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const t = await withClient(g, (c) => c.request('readlink', { path }));
      print(g, t, () => t + '\n');
    });
  program.command('write').description('write a value to a file (as echo VALUE > PATH): a type, an attribute, /proc/ID/vbus')
    .argument('<path>').argument('<value>')
    .action(async (path: string, value: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withClient(g, (c) => c.request('write', { path, value }));
      print(g, null, () => '');
    });
  for (const [op, what] of [['mkdir', 'create a device (/config/vbus/devices/NAME) or a bus (/config/vbus/instances/NAME)'], ['rmdir', 'destroy a device or a bus']] as const) {
    program.command(op).description(what).argument('<path>')
      .action(async (path: string, _o: unknown, cmd: Command) => {
        const g = cmd.optsWithGlobals<GlobalOptions>();
        await withClient(g, (c) => c.request(op, { path }));
        print(g, null, () => '');
      });
  }
  program.command('ln').description('link a device onto a bus: ln [-s] /config/vbus/devices/DEV /config/vbus/instances/BUS/')
    .option('-s, --symbolic', 'accepted for the shell\'s sake: every link here is symbolic')
    .argument('<target>').argument('<link>')
    .action(async (target: string, link: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withClient(g, (c) => c.request('ln', { target, link }));
      print(g, null, () => '');
    });
  program.command('rm').description('remove a link (unlink a device from a bus)').argument('<path>')
    .action(async (path: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withClient(g, (c) => c.request('rm', { path }));
      print(g, null, () => '');
    });
  program.command('modprobe').description('register a device class the runtime offers (a built-in class or one its topology loaded)').argument('<class>')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withClient(g, (c) => c.request('modprobe', { name }));
      print(g, null, () => '');
    });
  program.command('rmmod').description('unregister a device class (EBUSY while devices of it exist)').argument('<class>')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withClient(g, (c) => c.request('rmmod', { name }));
      print(g, null, () => '');
    });
}

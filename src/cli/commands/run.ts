/**
 * `vbus run FILE`: validates a topology file (nothing starts if it is wrong), builds
 * it, starts its guests, and serves the control socket until Ctrl-C, `vbus stop`, or
 * `--duration` runs out. Prints one `ready` line (JSON with --json) once the socket
 * listens, so scripts can wait for it.
 */
import type { Command } from 'commander';
import { seconds } from '../options.js';
import type { GlobalOptions } from '../connect.js';

interface RunOptions { name?: string; duration?: number; check?: boolean }

export function runCommand(program: Command): void {
  program.command('run')
    .description('validate a topology file (YAML or JSON), build it, start its guests and serve the control socket')
    .argument('<file>', 'topology file')
    .option('--name <name>', 'runtime name (default: the file\'s name:, else its base name)')
    .option('--duration <seconds>', 'stop after this long (default: until Ctrl-C or vbus stop)', seconds(86400))
    .option('--check', 'only validate the file and print its plan')
    .action(async (file: string, o: RunOptions, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await import('../../index.js'); // the Node platform: worker_threads guests, files, sockets
      const { loadTopologyFile } = await import('../../topology/load-file.js');
      const topo = await loadTopologyFile(file);
      if (o.check) {
        const plan = { name: o.name ?? topo.name, classes: topo.classes.map((c) => c.name), buses: topo.buses, devices: topo.devices.map((d) => d.name), links: topo.links, guests: topo.guests.map((x) => ({ bus: x.bus, name: x.name })) };
        process.stdout.write(g.json ? JSON.stringify(plan) + '\n' : `${file}: ok (${plan.buses.length} buses, ${plan.devices.length} devices, ${plan.links.length} links, ${plan.guests.length} guests)\n`);
        return;
      }
      const { startRuntime } = await import('../runtime.js');
      const rt = await startRuntime(topo, { name: o.name ?? topo.name });
      process.stdout.write(g.json
        ? JSON.stringify({ ready: true, name: rt.name, socket: rt.socket, pid: process.pid }) + '\n'
        : `vbus: runtime ${rt.name} ready: socket ${rt.socket} (pid ${process.pid}); Ctrl-C or vbus stop --runtime ${rt.name} stops it\n`);
      await new Promise<void>((done) => {
        const timer = o.duration ? setTimeout(done, o.duration * 1000) : undefined;
        const end = (): void => { if (timer) clearTimeout(timer); done(); };
        process.once('SIGINT', end);
        process.once('SIGTERM', end);
        rt.onStop(end);
      });
      await rt.stop();
      process.stdout.write(g.json ? JSON.stringify({ stopped: true, name: rt.name }) + '\n' : `vbus: runtime ${rt.name} stopped\n`);
    });
}

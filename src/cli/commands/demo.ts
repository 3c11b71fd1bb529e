/** `vbus demo` (what `npm start` runs): the demo topology for a while, then its rates and tree. */
import type { Command } from 'commander';
import { port, seconds } from '../options.js';
import { importDemo } from '../demo-import.js';
import { serveUntilSignal } from './serve.js';

interface DemoOptions { duration: number; file?: string; serve?: boolean; port: number; host: string; isolate: boolean }

export function demoCommand(program: Command): void {
  program.command('demo')
    .description('run the demo topology for a while, showing live rates, then print the measured rates and the /sys/vbus tree')
    .option('--duration <seconds>', 'how long to run (above 0, at most 50)', seconds(50), 10)
    .option('--file <topology>', 'topology file to run instead of examples/topologies/demo.yaml')
    .option('--serve', 'serve the demo page instead (same as vbus serve)')
    .option('--port <n>', 'with --serve: TCP port', port, 8080)
    .option('--host <addr>', 'with --serve: interface', '127.0.0.1')
    .option('--no-isolate', 'with --serve: leave out COOP/COEP')
    .action(async (o: DemoOptions) => {
      if (o.serve) { await serveUntilSignal(o); return; }
      const { runTopology } = await importDemo(() => import('../../demo/topology.js'));
      const r = await runTopology({ durationSec: o.duration, ...(o.file ? { file: o.file } : {}) });
      process.exitCode = r.ok ? 0 : 1;
    });
}

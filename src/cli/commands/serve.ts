/** `vbus serve`: the demo page (web/ and dist/, cross-origin isolated) until Ctrl-C. */
import type { Command } from 'commander';
import { port } from '../options.js';
import { importDemo } from '../demo-import.js';

export interface ServeOptions { port: number; host: string; isolate: boolean }

/** Starts the server, prints its URL, resolves when SIGINT/SIGTERM stopped it. */
export async function serveUntilSignal(o: ServeOptions): Promise<void> {
  const { startServer } = await importDemo(() => import('../../demo/serve.js'));
  const s = await startServer({ port: o.port, host: o.host, isolate: o.isolate });
  process.stdout.write(`vbus demo page: ${s.url}${o.isolate ? '' : ' (without COOP/COEP: the page will say what is missing)'}  (Ctrl-C to stop)\n`);
  await new Promise<void>((done) => {
    const stop = (): void => { void s.close().then(done); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

export function serveCommand(program: Command): void {
  program.command('serve')
    .description('serve the demo page (the demo topology in your browser) until Ctrl-C')
    .option('--port <n>', 'TCP port (0 picks a free one)', port, 8080)
    .option('--host <addr>', 'interface to listen on', '127.0.0.1')
    .option('--no-isolate', 'leave out COOP/COEP, to see what a page without SharedArrayBuffer shows')
    .action(async (o: ServeOptions) => { await serveUntilSignal(o); });
}

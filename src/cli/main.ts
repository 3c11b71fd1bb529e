#!/usr/bin/env node
/**
 * `vbus`, the operator's tool (package.json `bin`), built on commander. Commands:
 * demo, serve, run FILE, ls|tree|cat|readlink|write|mkdir|rmdir|ln|rm PATH,
 * modprobe|rmmod CLASS, spawn BUS SCRIPT, grant BUS, stop, ps, top. `--help` on each;
 * exit codes follow the errno of the failure (exit.ts).
 */
import { Command, CommanderError, Option } from 'commander';
import { EXIT_OK, report } from './exit.js';
import { positiveInt } from './options.js';
import { demoCommand } from './commands/demo.js';
import { serveCommand } from './commands/serve.js';
import { runCommand } from './commands/run.js';
import { adminCommands } from './commands/admin.js';
import { runtimeCommands } from './commands/runtime-ops.js';
import { topCommand } from './commands/top.js';
import { ERRNO } from '../errors.js';

export function buildProgram(): Command {
  const program = new Command('vbus')
    .description('vbus: buses, devices and guests in one process, administered from a shell')
    .addOption(new Option('--runtime <name>', 'the runtime to talk to (default: the only one running)').env('VBUS_RUNTIME'))
    .addOption(new Option('--socket <path>', 'talk to this control socket instead (a grant socket)').env('VBUS_SOCKET'))
    .addOption(new Option('--token <token>', 'capability token from vbus grant (delegated clients)').env('VBUS_TOKEN'))
    .option('--json', 'print results as JSON (one value per line)')
    .option('--timeout <ms>', 'deadline for each request to the runtime', positiveInt(600_000), 5000)
    .showHelpAfterError('(vbus --help lists the commands; vbus COMMAND --help their options)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  demoCommand(program);
  serveCommand(program);
  runCommand(program);
  adminCommands(program);
  runtimeCommands(program);
  topCommand(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors were printed by commander.
      return e.exitCode === 0 ? 0 : ERRNO.EINVAL;
    }
    return report(e);
  }
}

// Commands that start workers or servers end them before returning; whatever is left
// (an idle socket, a timer) must not keep a finished command alive. Writes to pipes and
// files are synchronous on Linux, so nothing printed is lost.
process.exit(await main(process.argv.slice(2)));

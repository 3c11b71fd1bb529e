/**
 * The benchmark runner: `npm run bench -- NAME [--quick] [--repeat N] [--placement same|diff|both] [--out FILE] [--list]`.
 * Runs benchmark NAME (bench/registry.ts), prints its table, and writes the rows with
 * the machine description to bench/results/NAME.json (or --out / VBUS_BENCH_OUT).
 */
import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { registry } from './registry.js';
import { machineInfo } from './harness/machine.js';
import { pinningAvailable } from './harness/pin.js';
import { createProgress } from './harness/progress.js';
import { renderTable } from './harness/table.js';
import type { PlacementRequest, ResultFile } from './harness/types.js';

const USAGE = `usage: npm run bench -- NAME [--quick] [--repeat N] [--placement same|diff|both] [--out FILE] [--only REGEX] [--recording FILE] [--no-progress]
       npm run bench -- --list`;

function die(msg: string): never {
  process.stderr.write(`bench: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      quick: { type: 'boolean', default: false },
      repeat: { type: 'string', default: '5' },
      placement: { type: 'string', default: 'both' },
      out: { type: 'string' },
      only: { type: 'string' },
      recording: { type: 'string' },
      list: { type: 'boolean', default: false },
      'no-progress': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) { process.stdout.write(USAGE + '\n'); return; }
  if (values.list) {
    for (const [name, load] of Object.entries(registry)) process.stdout.write(`${name.padEnd(8)} ${(await load()).description}\n`);
    return;
  }
  if (positionals.length !== 1) die(`expected one benchmark name (one of: ${Object.keys(registry).join(', ')}), got ${positionals.length}`);
  const name = positionals[0]!;
  const load = registry[name];
  if (!load) die(`unknown benchmark '${name}' (known: ${Object.keys(registry).join(', ')})`);
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 100) die(`--repeat ${values.repeat} must be an integer from 1 to 100`);
  const placement = values.placement as PlacementRequest;
  if (!['same', 'diff', 'both'].includes(placement)) die(`--placement ${values.placement} must be same, diff or both`);

  let only: RegExp | undefined;
  if (values.only !== undefined) {
    try { only = new RegExp(values.only); } catch { die(`--only ${values.only} is not a regular expression`); }
  }
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const out = resolve(values.out ?? process.env['VBUS_BENCH_OUT'] ?? join(root, 'bench/results', `${name}.json`));
  // A bench's side outputs (the scale plot) go next to the results file it was told to
  // write: `--out` elsewhere must not replace the plot the README shows.
  if (values.out !== undefined) process.env['VBUS_BENCH_OUT'] = out;

  const mod = await load();
  const progress = createProgress(!values['no-progress']);
  const machine = machineInfo();
  const pinning = pinningAvailable();
  process.stderr.write(`[bench] ${name}: ${machine.cpus} x ${machine.model}, node ${machine.node}, pinning ${pinning ? 'available (taskset)' : 'unavailable: rows say unpinned'}${values.quick ? ', quick' : `, ${repeat} repeats`}\n`);
  let rows;
  try {
    rows = await mod.run({ quick: values.quick, repeat, placement, ...(only ? { only } : {}), ...(values.recording ? { recording: values.recording } : {}), progress: (d, t, l) => progress.update(d, t, l) });
  } finally {
    progress.stop();
  }
  const result: ResultFile = { bench: name, machine, pinning, options: { quick: values.quick, repeat: values.quick ? 1 : repeat, placement }, rows };
  process.stdout.write(renderTable(mod, rows) + '\n');
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.tmp`;
  writeFileSync(tmp, JSON.stringify(result, null, 2) + '\n');
  renameSync(tmp, out); // a reader never sees half a file
  process.stderr.write(`[bench] wrote ${out}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});

/**
 * `npm start`: a small virtual machine room in one Node process. Two buses joined by a
 * venet-switch, a vdisk, a vconsole and a vrng, and a guest worker on each bus; the
 * guests exchange frames across the switch and do disk I/O while a progress bar shows
 * the live rates. At the end it prints the measured rates and the `/sys/vbus` tree and
 * exits (0 when frames crossed the switch and every disk read-back matched).
 *
 *   node dist/src/demo/topology.js [--duration SECONDS]   (default 10, at most 50)
 *   node dist/src/demo/topology.js --serve [--port N]     the demo page instead
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import cliProgress from 'cli-progress';
import '../index.js'; // installs the Node platform (worker_threads guests)
import { vbusError } from '../errors.js';
import { DemoLab, type LabSample } from './lab.js';
import { startServer } from './serve.js';

export interface TopologyOptions {
  durationSec: number;
  /** Write progress and results here (default process.stdout). */
  out?: NodeJS.WritableStream & { isTTY?: boolean };
}

export interface TopologyResult {
  seconds: number;
  framesDelivered: number;
  framesPerSec: number;
  guestFramesRx: number;
  callsPerSec: number;
  diskOpsPerSec: number;
  entropyBytes: number;
  consoleLines: number;
  raised: number;
  suppressed: number;
  diskMismatches: number;
  framesBad: number;
  switchDrops: number;
  tree: string;
  ok: boolean;
}

/** Parses the command line. EINVAL names the bad flag. */
export function parseArgs(argv: string[]): { durationSec: number; serve: boolean; port: number } {
  let durationSec = 10;
  let serve = false;
  let port = 8080;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--serve') serve = true;
    else if (a === '--duration' || a === '--port') {
      const v = Number(argv[++i]);
      if (a === '--duration') {
        if (!(v > 0 && v <= 50)) throw vbusError('EINVAL', `--duration ${argv[i]} must be a number of seconds above 0 and at most 50`, { value: argv[i] });
        durationSec = v;
      } else {
        if (!Number.isInteger(v) || v < 0 || v > 65535) throw vbusError('EINVAL', `--port ${argv[i]} must be an integer from 0 to 65535`, { value: argv[i] });
        port = v;
      }
    } else throw vbusError('EINVAL', `unknown argument ${a} (use --duration SECONDS, --serve, --port N)`, { arg: a });
  }
  return { durationSec, serve, port };
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Builds the topology, runs it for `durationSec`, prints the results, takes it down. */
export async function runTopology(opts: TopologyOptions): Promise<TopologyResult> {
  const out = opts.out ?? process.stdout;
  const lab = new DemoLab({ guestUrl: new URL('./guest-node.js', import.meta.url) });
  lab.buildStandardTopology();
  lab.onLog((e) => { if (e.event === 'error') out.write(`  ! ${e.guest}: ${e.text}\n`); });
  lab.startGuest('left', 'guest-left');
  lab.startGuest('right', 'guest-right');

  const bar = new cliProgress.SingleBar({
    format: ' {bar} {elapsed}s/{total}s | {fps} frames/s | {cps} calls/s | {dps} disk ops/s | rings {occ}%',
    barsize: 24,
    hideCursor: true,
    noTTYOutput: true, // CI logs get a line every 2 s instead of nothing
    notTTYSchedule: 2000,
    stream: out,
  }, cliProgress.Presets.shades_classic);
  const total = Math.ceil(opts.durationSec);
  const payload = (s: LabSample | null) => ({
    fps: fmt(s?.guestFramesPerSec ?? 0), cps: fmt(s?.callsPerSec ?? 0), dps: fmt(s?.diskOpsPerSec ?? 0),
    occ: ((s?.maxOccupancy ?? 0) * 100).toFixed(0), elapsed: '0',
  });
  bar.start(total, 0, payload(null));
  const start = performance.now();
  const first = lab.sample();
  await new Promise<void>((done) => {
    const timer = setInterval(() => {
      const s = lab.sample();
      const el = (performance.now() - start) / 1000;
      bar.update(Math.min(total, el), { ...payload(s), elapsed: el.toFixed(1) });
      if (el >= opts.durationSec) { clearInterval(timer); done(); }
    }, 500);
  });
  const end = lab.sample();
  bar.stop();
  const tree = lab.tree(); // while the guests are still members
  await lab.stopAll();
  const last = lab.sample(); // the guests' final reports arrived before they exited
  const seconds = end.t - first.t;
  const g = last.guest;
  const result: TopologyResult = {
    seconds,
    framesDelivered: end.totals.frames - first.totals.frames,
    framesPerSec: (end.totals.frames - first.totals.frames) / seconds,
    guestFramesRx: g.framesRx,
    callsPerSec: (end.totals.calls - first.totals.calls) / seconds,
    diskOpsPerSec: (g.diskReads + g.diskWrites) / seconds,
    entropyBytes: g.rngBytes,
    consoleLines: g.consoleLines,
    raised: end.raised,
    suppressed: end.suppressed,
    diskMismatches: g.diskMismatches,
    framesBad: g.framesBad,
    switchDrops: Number(lab.host.device('sw0')!.attr('drops')),
    tree,
    ok: false,
  };
  result.ok = result.framesDelivered > 0 && g.framesRx > 0 && g.diskReads > 0 && g.diskMismatches === 0 && g.framesBad === 0;

  const w = (s: string): void => { out.write(s + '\n'); };
  w('');
  w(`vbus topology: 2 buses (left, right) joined by venet-switch sw0; vdisk disk0 on left; vconsole con0 and vrng rng0 on right; ${seconds.toFixed(1)} s`);
  w('');
  w('measured rates');
  w(`  frames across the switch   ${fmt(result.framesPerSec)} frames/s  (${fmt(result.framesDelivered)} delivered, ${fmt(g.framesRx)} received by guests, ${g.framesBad} malformed)`);
  w(`  switch drops               ${fmt(result.switchDrops)} frames (a full RX ring at the receiving port: tail drop)`);
  w(`  device calls               ${fmt(result.callsPerSec)} calls/s`);
  w(`  disk I/O                   ${fmt(result.diskOpsPerSec)} ops/s  (${fmt(g.diskWrites)} writes, ${fmt(g.diskReads)} read-backs, ${g.diskMismatches} mismatches)`);
  w(`  entropy                    ${fmt(result.entropyBytes)} bytes from vrng`);
  w(`  notifications              ${fmt(result.raised)} raised, ${fmt(result.suppressed)} suppressed (signals of the rings open at the end)`);
  const lines = lab.consoleLines.slice(-2);
  if (lines.length) {
    w('');
    w('console con0 (last lines)');
    for (const l of lines) w(`  ${l.line}`);
  }
  w('');
  w(tree);
  w('');
  w(result.ok ? 'ok: frames crossed the switch and every disk read-back matched' : 'FAILED: no frames crossed the switch, no disk I/O, or corrupt data');
  await lab.release();
  return result;
}

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  if (args.serve) {
    const s = await startServer({ port: args.port });
    console.log(`vbus demo page: ${s.url}  (Ctrl-C to stop)`);
    const stop = () => { void s.close().then(() => process.exit(0)); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return;
  }
  const r = await runTopology({ durationSec: args.durationSec });
  process.exitCode = r.ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((e) => { console.error(String(e?.stack ?? e)); process.exit(1); });
}

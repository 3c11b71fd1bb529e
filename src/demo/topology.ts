/**
 * `vbus demo` (`npm start`): a small virtual machine room in one Node process, built
 * from a topology file (default examples/topologies/demo.yaml: two buses joined by a
 * venet-switch, a vdisk, a vconsole and a vrng, and a guest worker on each bus); the
 * guests exchange frames across the switch and do disk I/O while a progress bar shows
 * the live rates. At the end it prints the measured rates and the `/sys/vbus` tree and
 * exits (0 when frames crossed the switch and every disk read-back matched).
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import '../index.js'; // installs the Node platform (worker_threads guests)
import { DemoLab, type LabSample } from './lab.js';
import { loadTopologyFile } from '../topology/load-file.js';

/** The topology `vbus demo` runs by default (this file is dist/src/demo/topology.js once built). */
export const DEMO_TOPOLOGY = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'examples', 'topologies', 'demo.yaml');

export interface TopologyOptions {
  durationSec: number;
  /** Topology file (default {@link DEMO_TOPOLOGY}). */
  file?: string;
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

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Builds the topology, runs it for `durationSec`, prints the results, takes it down. */
export async function runTopology(opts: TopologyOptions): Promise<TopologyResult> {
  const out = opts.out ?? process.stdout;
  const topo = await loadTopologyFile(opts.file ?? DEMO_TOPOLOGY);
  const lab = new DemoLab({ guestUrl: new URL('./guest-node.js', import.meta.url), registerClasses: false });
  lab.build(topo);
  lab.onLog((e) => { if (e.event === 'error') out.write(`  ! ${e.guest}: ${e.text}\n`); });
  for (const g of topo.guests) lab.startGuest(g.bus, g.name, (g.data ?? {}) as object, g.url);
  // The clock starts once the guests run: worker start-up is not part of the measured window.
  await lab.whenReporting();

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
    switchDrops: lab.host.devices().filter((d) => d.deviceClass?.name === 'venet-switch').reduce((n, d) => n + Number(d.attr('drops')), 0),
    tree,
    ok: false,
  };
  result.ok = result.framesDelivered > 0 && g.framesRx > 0 && g.diskReads > 0 && g.diskMismatches === 0 && g.framesBad === 0;

  const w = (s: string): void => { out.write(s + '\n'); };
  w('');
  w(`vbus topology ${topo.name} (${topo.file}): ${topo.buses.length} buses (${topo.buses.map((b) => b.name).join(', ')}), ${topo.devices.length} devices (${topo.devices.map((d) => `${d.name}: ${d.type}`).join(', ')}), ${topo.guests.length} guests; ${seconds.toFixed(1)} s`);
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

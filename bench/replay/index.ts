/**
 * Device models on recorded traffic: `npm run bench -- replay --recording FILE` replays
 * a recording (src/record) against a fresh device of its class, alone in this thread,
 * `--repeat` times, and reports steps per second and input megabytes per second of the
 * device model itself (no guest, no wake-ups: what the model costs). Without
 * `--recording` it records its own traffic first (make-recording.ts) and replays that.
 * A replay that does not match its recording fails the run: the numbers of a diverging
 * model would be numbers of something else.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { decodeRecording, replayRecording, SHIPPED_CLASSES, type Recording } from '../../src/index.js';
import type { BenchModule, BenchOptions, Row } from '../harness/types.js';
import { recordLoopback, recordVdisk } from './make-recording.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Bytes the guest handed the device over the whole recording. */
function inputBytes(rec: Recording): number {
  let n = 0;
  for (const s of rec.steps) {
    for (const [, runs] of (s['in'] as Array<[string, Array<[number, Uint8Array]>]> | undefined) ?? []) for (const [, b] of runs) n += b.length;
    if (s['payload'] instanceof Uint8Array) n += s['payload'].length;
  }
  return n;
}

function measure(name: string, rec: Recording, opts: BenchOptions): Row {
  const repeats = opts.quick ? 1 : opts.repeat;
  const rates: number[] = [];
  for (let i = 0; i < repeats; i++) {
    opts.progress(i, repeats, `replay ${name}`);
    const t0 = performance.now();
    const r = replayRecording(rec, { classes: SHIPPED_CLASSES, stopAtFirst: true });
    const dt = (performance.now() - t0) / 1000;
    if (!r.ok) throw new Error(`replay of ${name} diverged at step ${r.mismatches[0]!.step}: ${r.mismatches[0]!.what}`);
    rates.push(r.steps / dt);
  }
  const ops = median(rates);
  const bytes = inputBytes(rec);
  const perStep = rec.steps.length ? Math.round(bytes / rec.steps.length) : 0;
  return {
    case: `replay-${name}`, impl: `${rec.cls}-model`, bytes: perStep, opsPerSec: Math.round(ops),
    mbPerSec: Math.round((ops * perStep) / 1e4) / 100, placement: 'unpinned', threads: 1, repeats,
    bestOpsPerSec: Math.round(Math.max(...rates)), spread: Math.round(((Math.max(...rates) - Math.min(...rates)) / ops) * 100) / 100,
    note: `${rec.steps.length} steps, ${bytes} input bytes${rec.truncated ? ', truncated' : ''}`,
  };
}

async function run(opts: BenchOptions): Promise<Row[]> {
  if (opts.recording) {
    const rec = decodeRecording(new Uint8Array(readFileSync(opts.recording)), opts.recording);
    return [measure(basename(opts.recording), rec, opts)];
  }
  const frames = opts.quick ? 200 : 5000;
  const writes = opts.quick ? 64 : 2048;
  return [
    measure('loopback-1500B', await recordLoopback(frames, 1500), opts),
    measure('vdisk-4k-qd32', await recordVdisk(writes), opts),
  ];
}

export const replayBench: BenchModule = {
  description: 'device models replaying recorded traffic alone (--recording FILE, or its own recording)',
  references: [],
  run,
};

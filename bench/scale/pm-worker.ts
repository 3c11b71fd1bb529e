/**
 * Scale bench baseline: a worker that, in each window, asks the main thread to echo 8
 * bytes by postMessage and awaits the answer, as fast as it can. Start data: { ctl }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SAMPLE_EVERY, Sampler, waitWindow, windowOver, type WindowResult } from './protocol.js';

const port = parentPort!;
const ctl = new Int32Array((workerData as { ctl: SharedArrayBuffer }).ctl);
const payload = new Uint8Array(8).fill(7);
const sampler = new Sampler();
let answer: (() => void) | null = null;
port.on('message', (m: unknown) => {
  if (m === 'echo') { const a = answer; answer = null; a?.(); }
});
const call = (): Promise<void> => new Promise((r) => { answer = r; port.postMessage(payload); });

let gen = 0;
for (;;) {
  gen = waitWindow(ctl, gen);
  if (gen < 0) break;
  let count = 0;
  while (!windowOver(ctl, gen)) {
    const t = performance.now();
    await call();
    if (count % SAMPLE_EVERY === 0) sampler.add((performance.now() - t) * 1000);
    count++;
  }
  port.postMessage({ count, errors: 0, samples: sampler.take() } satisfies WindowResult);
}
process.exit(0);

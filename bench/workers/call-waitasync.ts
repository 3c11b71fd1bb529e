/**
 * The reference for a host-thread DEVCALL: a plain futex round trip whose callee is an
 * event loop. This worker (the caller) stores a ping and notifies, then parks in
 * Atomics.wait for the pong; the main thread answers from Atomics.waitAsync.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pinSelf } from '../harness/pin.js';

const { ctl, n, pinCpu } = workerData as { ctl: SharedArrayBuffer; n: number; pinCpu?: number };
if (pinCpu !== undefined) pinSelf(pinCpu);
const i32 = new Int32Array(ctl); // [0] ping, [1] pong
const samples = new Float64Array(n);
for (let i = 1; i <= n; i++) {
  const t = performance.now();
  Atomics.store(i32, 0, i); // ping
  Atomics.notify(i32, 0, 1);
  let v: number;
  while ((v = Atomics.load(i32, 1)) < i) Atomics.wait(i32, 1, v); // plain park, no spin
  samples[i - 1] = (performance.now() - t) * 1000;
}
Atomics.store(i32, 0, -1);
Atomics.notify(i32, 0, 1);
parentPort!.postMessage(samples, [samples.buffer]);

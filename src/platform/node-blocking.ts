/**
 * Node's way for a worker to block on the message transport: receiveMessageOnPort takes
 * a message off a port synchronously (it does not wait), so this polls it, resting in
 * short Atomics.wait naps on a private word between polls. Installed by the Node entry;
 * browsers have no equivalent, so synchronous calls there fail with EAGAIN
 * (src/transport/sync-gate.ts).
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { MirrorPort } from '../transport/mirror.js';

const nap = new Int32Array(new SharedArrayBuffer(4));
/** Polls before the first nap (a reply often arrives within microseconds). */
const EAGER_POLLS = 200;
/** Length of one nap, ms. */
const NAP_MS = 0.05;

export function nodeBlockingReceive(port: MirrorPort, timeoutMs: number): unknown {
  const deadline = performance.now() + timeoutMs;
  for (let n = 0; ; n++) {
    const got = receiveMessageOnPort(port as unknown as MessagePort);
    if (got) return got.message;
    if (performance.now() >= deadline) return undefined;
    if (n >= EAGER_POLLS) Atomics.wait(nap, 0, 0, NAP_MS); // nobody notifies: a plain nap
  }
}

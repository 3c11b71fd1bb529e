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
/** Time to poll without napping, ms: a reply often arrives within tens of microseconds, and a nap lasts longer than it asks. */
const EAGER_MS = 0.2;
/** Length of one nap, ms. */
const NAP_MS = 0.05;

export function nodeBlockingReceive(port: MirrorPort, timeoutMs: number): unknown {
  const start = performance.now();
  const deadline = start + timeoutMs;
  for (;;) {
    const got = receiveMessageOnPort(port as unknown as MessagePort);
    if (got) return got.message;
    const now = performance.now();
    if (now >= deadline) return undefined;
    if (now - start >= EAGER_MS) Atomics.wait(nap, 0, 0, NAP_MS); // nobody notifies: a plain nap
  }
}

/**
 * Node worker threads behind a small interface, so code above the platform layer never
 * imports `node:worker_threads` itself. (The browser layer offers the same shape over
 * Web Workers.)
 */
import { Worker, parentPort, workerData, type TransferListItem } from 'node:worker_threads';

/** A started worker, as the spawning side sees it. */
export interface NodeWorkerHandle {
  post(msg: unknown, transfer?: TransferListItem[]): void;
  onMessage(fn: (msg: unknown) => void): void;
  /** Resolves with the exit code; rejects if the worker threw. */
  readonly exited: Promise<number>;
  terminate(): Promise<void>;
}

/** Starts `url` (an ES module) as a worker thread with `data` as its start data. */
export function spawnNodeWorker(url: URL, data: unknown): NodeWorkerHandle {
  const w = new Worker(url, { workerData: data });
  const exited = new Promise<number>((resolve, reject) => {
    w.once('error', reject);
    w.once('exit', resolve);
  });
  return {
    post: (msg, transfer = []) => w.postMessage(msg, transfer),
    onMessage: (fn) => { w.on('message', fn); },
    exited,
    terminate: async () => { await w.terminate(); },
  };
}

/** Inside a worker: the start data and a way to answer the parent. Throws outside a worker. */
export function nodeWorkerSelf(): { data: unknown; post(msg: unknown): void } {
  const port = parentPort;
  if (!port) throw new Error('nodeWorkerSelf() called outside a worker thread');
  return { data: workerData, post: (msg) => port.postMessage(msg) };
}

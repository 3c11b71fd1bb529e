/**
 * Backends on Node: a piscina pool whose tasks are long-running device loops
 * (src/connector/backend/backend-task.ts). Each backend holds one pool thread until it
 * is stopped, so the pool is sized for the number of backend devices, not for CPUs.
 */
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { BackendHandle, BackendRunner } from '../connector/backend/runner.js';
import type { BackendReport, BackendStart } from '../connector/backend/protocol.js';

const TASK_URL = new URL('../connector/backend/backend-task.js', import.meta.url);

export function createNodeBackendRunner(opts: { maxThreads?: number } = {}): BackendRunner {
  let pool: Piscina | undefined;
  let running = 0;
  const getPool = (): Piscina => {
    pool ??= new Piscina({ filename: TASK_URL.href, minThreads: 0, maxThreads: opts.maxThreads ?? 64, idleTimeout: 1000, concurrentTasksPerWorker: 1 });
    return pool;
  };
  return {
    start(start: BackendStart): BackendHandle {
      const { port1, port2 } = new MessageChannel();
      running++;
      const done = getPool().run({ ...start, port: port2 }, { transferList: [port2] }) as Promise<BackendReport>;
      void done.finally(() => { running--; port1.close(); });
      return {
        post: (msg) => port1.postMessage(msg),
        onNotice: (fn) => { port1.on('message', fn); port1.unref(); },
        done,
      };
    },
    async close(): Promise<void> {
      if (pool && running === 0) { const p = pool; pool = undefined; await p.destroy(); }
    },
  };
}

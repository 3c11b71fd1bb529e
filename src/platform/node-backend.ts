/**
 * Backends on Node: the backend pool (src/connector/backend/pool.ts) with worker_threads
 * as its threads, each running node-backend-thread.ts.
 */
import { BackendPool, type BackendPoolOptions } from '../connector/backend/pool.js';
import type { BackendRunner } from '../connector/backend/runner.js';

const THREAD_URL = new URL('./node-backend-thread.js', import.meta.url);

export function createNodeBackendRunner(opts: BackendPoolOptions = {}): BackendRunner {
  return new BackendPool(THREAD_URL, opts);
}

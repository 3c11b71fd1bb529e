/**
 * The platform layer: what differs between Node and browsers (starting workers, and
 * whether shared memory is allowed), behind one interface.
 *
 * Which implementation runs is decided by the entry point the program imports, not by
 * detecting the environment here: `src/index.ts` (Node) installs `node.ts`, and
 * `src/browser.ts` installs `browser.ts`. This file imports neither, so nothing reaches
 * `node:worker_threads` from the browser entry, not even through a guarded dynamic
 * `import()` — which a browser would leave unfetched, but which bundlers and import-graph
 * checks would still follow, and which would make spawnWorker asynchronous. Runtime code
 * (hosts, guests, devices) calls the functions below and works on either.
 */
import { vbusError } from '../errors.js';
import type { Platform, PlatformWorker, SpawnOptions, WorkerContext } from './types.js';

export type { Platform, PlatformName, PlatformWorker, SpawnOptions, WorkerContext } from './types.js';
export { PROCESS_SHARED_BYTES } from './types.js';
export { checkSharedMemory, isCrossOriginIsolated, isNodeRuntime, ISOLATION_HEADERS } from './shared-memory.js';
export type { SharedMemoryNeeds } from './shared-memory.js';

let current: Platform | undefined;

/** Installs the implementation; entry points call this once. Installing another replaces it. */
export function installPlatform(p: Platform): void {
  current = p;
}

/** The installed implementation. Throws ENOTSUP if the program bypassed both entry points. */
export function platform(): Platform {
  if (!current) {
    throw vbusError('ENOTSUP', 'no platform installed: import vbus through its entry point (dist/src/index.js on Node, dist/src/browser.js in a browser), not a module inside it');
  }
  return current;
}

/**
 * Starts a worker (worker_threads on Node, a module Web Worker in a browser) running the
 * ES module at `url`, and hands it `data`; the worker reads it with {@link workerContext}.
 */
export function spawnWorker(url: URL, data: unknown, opts?: SpawnOptions): PlatformWorker {
  return platform().spawnWorker(url, data, opts);
}

/** Inside a worker started by {@link spawnWorker}: its start data and its channel to the spawner. */
export function workerContext<T = unknown>(): Promise<WorkerContext<T>> {
  return platform().workerContext<T>();
}

/**
 * Logical CPUs this process may run on (1 if no platform is installed yet). Spin
 * policies use it to keep the number of spinning threads below the cores that exist.
 */
export function coreCount(): number {
  const n = current ? current.cores() : (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : 1;
}

/** The process-wide shared buffer (see Platform.processShared), or undefined. */
export function processShared(): SharedArrayBuffer | undefined {
  return current?.processShared();
}

/** A monotonic clock in milliseconds (fractional), the same on both platforms. */
export function hrtime(): number {
  return performance.now();
}

/** Largest request crypto.getRandomValues serves in one call. */
const RANDOM_CHUNK = 65536;

/** `n` bytes from the platform CSPRNG (crypto.getRandomValues on both platforms). */
export function randomBytes(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0) throw vbusError('EINVAL', `randomBytes length ${n} must be a non-negative integer`, { n });
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += RANDOM_CHUNK) {
    crypto.getRandomValues(out.subarray(at, Math.min(n, at + RANDOM_CHUNK)));
  }
  return out;
}

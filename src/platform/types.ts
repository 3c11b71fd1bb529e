/**
 * The platform layer's contract: the few things the runtime needs from its host
 * environment that differ between Node and browsers. Everything else (shared memory,
 * Atomics, WebAssembly, performance, crypto) is the same global API on both.
 *
 * Two implementations satisfy it: `node.ts` (worker_threads) and `browser.ts` (Web
 * Workers, no Node imports). The entry point a program imports installs one of them
 * (see `index.ts` for why the choice is made by the entry point, not by detection).
 */

/** Bytes of the process-wide shared buffer ({@link Platform.processShared}). */
export const PROCESS_SHARED_BYTES = 8192;

/** Which implementation is running. */
export type PlatformName = 'node' | 'browser';

/** Options for {@link Platform.spawnWorker}. */
export interface SpawnOptions {
  /** A name for debuggers and error messages. */
  name?: string;
  /**
   * Objects to transfer (not copy) with the start data. Shared memories and compiled
   * modules are shared by cloning and need not be listed.
   */
  transfer?: Transferable[];
}

/**
 * A worker thread as the spawning side sees it, the same on both platforms.
 *
 * Lifetime follows Node's rules on both: an uncaught error in the worker is reported to
 * {@link onError} and ends the worker, then {@link onExit} reports code 1. (A browser
 * would keep a Web Worker alive after an uncaught error; the browser implementation
 * terminates it so that a failed guest cannot linger half-alive.)
 */
export interface PlatformWorker {
  /** The name given at spawn, or the script's file name. */
  readonly name: string;
  /** Posts a message (structured clone) to the worker. Ignored after exit. */
  postMessage(message: unknown, transfer?: Transferable[]): void;
  /** Adds a listener for messages the worker posts. */
  onMessage(fn: (message: unknown) => void): void;
  /** Adds a listener for an uncaught error in the worker (or a failure to load it). */
  onError(fn: (error: Error) => void): void;
  /** Adds a listener for the worker's end: 0 when it exited by itself cleanly, 1 after an error or terminate(). */
  onExit(fn: (code: number) => void): void;
  /** Resolves with the exit code once the worker has ended. */
  readonly exited: Promise<number>;
  /** Stops the worker now. Resolves with its exit code; safe to call more than once. */
  terminate(): Promise<number>;
}

/**
 * Inside a worker: the channel to the thread that spawned it and the data it was
 * started with. Obtain it with `workerContext()`.
 */
export interface WorkerContext<T = unknown> {
  /** The `data` given to spawnWorker (structured clone). */
  readonly data: T;
  /** Posts a message to the spawning thread. */
  postMessage(message: unknown, transfer?: Transferable[]): void;
  /** Adds a listener for messages from the spawning thread. Messages that arrived before the first listener are delivered to it. */
  onMessage(fn: (message: unknown) => void): void;
  /** Ends this worker; the spawning side's onExit sees `code`. */
  exit(code?: number): void;
}

/** One implementation of the platform layer. */
export interface Platform {
  readonly name: PlatformName;
  /**
   * Starts a worker running the ES module at `url` and hands it `data` (structured
   * clone: shared WebAssembly.Memory and WebAssembly.Module objects are shared, not
   * copied). The worker receives `data` through `workerContext()`.
   */
  spawnWorker(url: URL, data: unknown, opts?: SpawnOptions): PlatformWorker;
  /** Inside a worker: its context. Throws ENOTSUP on a thread that is not a worker. */
  workerContext<T = unknown>(): Promise<WorkerContext<T>>;
  /**
   * Logical CPUs this process may run on: `os.availableParallelism()` on Node (it honours
   * the affinity mask), `navigator.hardwareConcurrency` in a browser.
   */
  cores(): number;
  /**
   * One small SharedArrayBuffer shared by every thread of this process that loaded vbus
   * (main thread, guests, backends), or undefined where none can be shared (a page that
   * is not cross-origin isolated). The spin gate lives in it (src/core/spin-gate.ts).
   */
  processShared(): SharedArrayBuffer | undefined;
}

/**
 * The Node implementation of the platform layer: guests are `worker_threads` workers.
 * The only file of the runtime (with its entry point, src/index.ts) that imports a Node
 * module; the browser entry never reaches it.
 */
import { Worker, isMainThread, parentPort, workerData, getEnvironmentData, setEnvironmentData } from 'node:worker_threads';
import os from 'node:os';
import { vbusError } from '../errors.js';
import { PROCESS_SHARED_BYTES, type Platform, type PlatformWorker, type SpawnOptions, type WorkerContext } from './types.js';
import { WorkerEvents } from './worker-events.js';

class NodePlatformWorker implements PlatformWorker {
  readonly name: string;
  private readonly worker: Worker;
  private readonly events = new WorkerEvents();

  constructor(url: URL, data: unknown, opts: SpawnOptions) {
    this.name = opts.name ?? url.pathname.split('/').pop() ?? 'worker';
    this.worker = new Worker(url, {
      workerData: data,
      ...(opts.transfer ? { transferList: opts.transfer as never } : {}),
      name: this.name,
    });
    this.worker.on('message', (m) => this.events.emitMessage(m));
    this.worker.on('error', (e) => this.events.emitError(e instanceof Error ? e : new Error(String(e))));
    this.worker.on('exit', (code) => this.events.emitExit(code));
  }

  get exited(): Promise<number> { return this.events.exited; }

  postMessage(message: unknown, transfer?: Transferable[]): void {
    if (this.events.hasExited) return;
    this.worker.postMessage(message, transfer as never);
  }

  onMessage(fn: (message: unknown) => void): void { this.events.onMessage(fn); }
  onError(fn: (error: Error) => void): void { this.events.onError(fn); }
  onExit(fn: (code: number) => void): void { this.events.onExit(fn); }

  async terminate(): Promise<number> {
    if (!this.events.hasExited) await this.worker.terminate(); // 'exit' fires with code 1
    return this.events.exited;
  }
}

const SHARED_KEY = 'vbus.processShared';

/**
 * The process-wide buffer travels as worker environment data, which Node clones into
 * every Worker created afterwards (guests, their children, piscina's backend threads)
 * without any message: the first thread that asks creates it, and since that is the main
 * thread before it starts a worker, every later thread inherits the same buffer.
 */
function nodeProcessShared(): SharedArrayBuffer {
  const have = getEnvironmentData(SHARED_KEY);
  if (have instanceof SharedArrayBuffer) return have;
  const sab = new SharedArrayBuffer(PROCESS_SHARED_BYTES);
  setEnvironmentData(SHARED_KEY, sab);
  return sab;
}

const CORES_KEY = 'vbus.cores';

/**
 * The process's cores, counted once on the main thread at load and inherited by every
 * worker as environment data: os.availableParallelism() honours the calling thread's
 * affinity, so a thread that pinned itself to one CPU would otherwise count one core.
 * (Environment data is cloned per thread, so no guest can change another's count.)
 */
function nodeCores(): number {
  const n = getEnvironmentData(CORES_KEY);
  return typeof n === 'number' && n > 0 ? n : os.availableParallelism();
}

// Made at load on the main thread, before piscina or spawnWorker can start a thread.
if (isMainThread) {
  nodeProcessShared();
  setEnvironmentData(CORES_KEY, os.availableParallelism());
}

/** worker_threads, as the platform layer. */
export const nodePlatform: Platform = {
  name: 'node',

  spawnWorker(url: URL, data: unknown, opts: SpawnOptions = {}): PlatformWorker {
    if (!(url instanceof URL)) throw vbusError('EINVAL', `worker script must be a URL (got ${String(url)})`, { url });
    return new NodePlatformWorker(url, data, opts);
  },

  cores(): number { return nodeCores(); },

  processShared(): SharedArrayBuffer { return nodeProcessShared(); },

  async workerContext<T>(): Promise<WorkerContext<T>> {
    const port = parentPort;
    if (isMainThread || !port) {
      throw vbusError('ENOTSUP', 'workerContext() was called on the main thread; it only works inside a worker started with spawnWorker()');
    }
    return {
      data: workerData as T,
      postMessage: (m, transfer) => port.postMessage(m, transfer as never),
      // A MessagePort queues messages until its first listener, so none are lost.
      onMessage: (fn) => { port.on('message', fn); },
      exit: (code = 0) => { process.exit(code); },
    };
  },
};

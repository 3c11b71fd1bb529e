/**
 * The Node implementation of the platform layer: guests are `worker_threads` workers.
 * The only file of the runtime (with its entry point, src/index.ts) that imports a Node
 * module; the browser entry never reaches it.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { vbusError } from '../errors.js';
import type { Platform, PlatformWorker, SpawnOptions, WorkerContext } from './types.js';
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

/** worker_threads, as the platform layer. */
export const nodePlatform: Platform = {
  name: 'node',

  spawnWorker(url: URL, data: unknown, opts: SpawnOptions = {}): PlatformWorker {
    if (!(url instanceof URL)) throw vbusError('EINVAL', `worker script must be a URL (got ${String(url)})`, { url });
    return new NodePlatformWorker(url, data, opts);
  },

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

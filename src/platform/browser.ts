/**
 * The browser implementation of the platform layer: guests are module Web Workers.
 * No Node imports here or in anything this file imports (test/browser-imports.test.ts
 * walks the graph to keep it so).
 *
 * Web Workers differ from worker_threads in three ways this file hides:
 * - they take no start data: the data is posted as the first message, and the worker
 *   side waits for it in workerContext();
 * - they fire no exit event: a worker that ends itself posts an exit marker first, and
 *   terminate() reports exit code 1 as Node does;
 * - an uncaught error does not end them: here it does (terminate, exit code 1), so a
 *   failed guest behaves the same on both platforms.
 */
import { vbusError } from '../errors.js';
import { exitMessage, readExitMessage, readStartMessage, readStartShared, startMessage } from './exit-message.js';
import { PROCESS_SHARED_BYTES, type Platform, type PlatformWorker, type SpawnOptions, type WorkerContext } from './types.js';
import { WorkerEvents } from './worker-events.js';

class WebPlatformWorker implements PlatformWorker {
  readonly name: string;
  private readonly worker: Worker;
  private readonly events = new WorkerEvents();

  constructor(url: URL, data: unknown, opts: SpawnOptions) {
    this.name = opts.name ?? url.pathname.split('/').pop() ?? 'worker';
    this.worker = new Worker(url, { type: 'module', name: this.name });
    this.worker.addEventListener('message', (ev) => {
      const code = readExitMessage(ev.data);
      if (code !== undefined) { this.finish(code); return; }
      this.events.emitMessage(ev.data);
    });
    this.worker.addEventListener('messageerror', () => {
      this.events.emitError(vbusError('EPROTO', `worker ${this.name} posted a message that could not be deserialized`));
    });
    this.worker.addEventListener('error', (ev) => {
      ev.preventDefault(); // reported through onError, not as an uncaught page error
      const where = ev.filename ? ` (${ev.filename}:${ev.lineno})` : '';
      const msg = ev.message || `worker ${url.href} failed to load (check the URL and that the server sends it as JavaScript)`;
      this.events.emitError(vbusError('EIO', `worker ${this.name}: ${msg}${where}`, { url: url.href }));
      this.finish(1);
    });
    // Queued before the worker runs; workerContext() on the other side consumes it.
    this.worker.postMessage(startMessage(data, pageShared()), opts.transfer ?? []);
  }

  get exited(): Promise<number> { return this.events.exited; }

  postMessage(message: unknown, transfer?: Transferable[]): void {
    if (this.events.hasExited) return;
    this.worker.postMessage(message, transfer ?? []);
  }

  onMessage(fn: (message: unknown) => void): void { this.events.onMessage(fn); }
  onError(fn: (error: Error) => void): void { this.events.onError(fn); }
  onExit(fn: (code: number) => void): void { this.events.onExit(fn); }

  terminate(): Promise<number> {
    this.finish(1);
    return this.events.exited;
  }

  private finish(code: number): void {
    if (this.events.hasExited) return;
    this.worker.terminate();
    this.events.emitExit(code);
  }
}

let shared: SharedArrayBuffer | undefined;

/**
 * The process-wide buffer: made by the page (when it may share memory) and handed to
 * each worker in its start message; a worker adopts the one it was given.
 */
function pageShared(): SharedArrayBuffer | undefined {
  if (!shared && !inWorkerScope() && typeof SharedArrayBuffer !== 'undefined' && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== false) {
    shared = new SharedArrayBuffer(PROCESS_SHARED_BYTES);
  }
  return shared;
}

/** The worker-side inbox: installed when this module loads inside a worker. */
interface Inbox {
  start: Promise<unknown>;
  early: unknown[];
  listeners: ((m: unknown) => void)[];
}

let inbox: Inbox | undefined;

/** True on a dedicated worker's global scope. */
function inWorkerScope(): boolean {
  const scope = (globalThis as { DedicatedWorkerGlobalScope?: abstract new () => unknown }).DedicatedWorkerGlobalScope;
  return typeof scope === 'function' && globalThis instanceof scope;
}

/**
 * Listens from the moment this module is evaluated, because a guest module may await
 * other things before it calls workerContext(), and a message dispatched with no
 * listener is gone. Messages are held until the first onMessage listener.
 */
function installInbox(): Inbox {
  let resolveStart!: (d: unknown) => void;
  const box: Inbox = { start: new Promise((r) => { resolveStart = r; }), early: [], listeners: [] };
  let started = false;
  globalThis.addEventListener('message', (ev: Event) => {
    const data = (ev as MessageEvent).data;
    if (!started) {
      const [isStart, startData] = readStartMessage(data);
      if (isStart) { started = true; shared = readStartShared(data); resolveStart(startData); return; }
    }
    if (box.listeners.length === 0) box.early.push(data);
    else for (const fn of box.listeners) fn(data);
  });
  return box;
}

if (inWorkerScope()) inbox = installInbox();

/** Web Workers, as the platform layer. */
export const browserPlatform: Platform = {
  name: 'browser',

  spawnWorker(url: URL, data: unknown, opts: SpawnOptions = {}): PlatformWorker {
    if (!(url instanceof URL)) throw vbusError('EINVAL', `worker script must be a URL (got ${String(url)})`, { url });
    if (typeof Worker !== 'function') throw vbusError('ENOTSUP', 'this environment has no Web Worker support');
    return new WebPlatformWorker(url, data, opts);
  },

  cores(): number {
    const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
    return typeof n === 'number' && n > 0 ? n : 1;
  },

  processShared(): SharedArrayBuffer | undefined { return pageShared(); },

  async workerContext<T>(): Promise<WorkerContext<T>> {
    if (!inbox) {
      throw vbusError('ENOTSUP', 'workerContext() was called outside a Web Worker; it only works inside a worker started with spawnWorker()');
    }
    const box = inbox;
    const data = (await box.start) as T;
    const post = (m: unknown, transfer?: Transferable[]) => { (globalThis as unknown as Worker).postMessage(m, transfer ?? []); };
    return {
      data,
      postMessage: post,
      onMessage: (fn) => {
        box.listeners.push(fn);
        if (box.listeners.length === 1) for (const m of box.early.splice(0)) fn(m);
      },
      exit: (code = 0) => {
        post(exitMessage(code));
        (globalThis as unknown as { close(): void }).close();
      },
    };
  },
};

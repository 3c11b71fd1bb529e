/**
 * The backend pool: the threads that serve devices placed in `backend`. At most as many
 * shared threads as the process has cores (platform cores(): os.availableParallelism()
 * on Node, navigator.hardwareConcurrency in browsers), created lazily, each serving any
 * number of devices on any number of buses through one serve group (pool-thread.ts).
 *
 * Assignment: a new device goes to a new shared thread while fewer than the cap exist
 * and every existing one already serves a device, otherwise to the shared thread that
 * serves the fewest devices. A pinned device gets a thread of its own, which serves
 * nothing else; pinned threads are capped at the cores too (a pin beyond that is served
 * by the shared threads), so the pool never runs more than twice the cores. Links of one device whose model spans buses
 * (BackendStart.share) all go to the thread that runs that model. A device that stops frees its share; a thread
 * left with no device is ended at once (the next device starts a new one).
 *
 * Our own pool over the platform's worker API rather than piscina: piscina decides which
 * thread runs a task and treats a task as one request, while a pool thread here is a
 * long-lived server that must receive later devices by choice (least-loaded, pinned)
 * and their control messages on the same channel.
 */
import { vbusError, type ErrnoCode } from '../../errors.js';
import { coreCount, spawnWorker, type PlatformWorker } from '../../platform/index.js';
import type { BackendHandle, BackendRunner, BackendStartOptions, BackendThreadInfo } from './runner.js';
import type { BackendNotice, BackendReport, BackendStart, PoolCommand, PoolEvent } from './protocol.js';
import type { PoolThreadData } from './pool-thread.js';

interface PoolDevice {
  busName: string;
  deviceId: number;
  owner: unknown;
  share: number | undefined;
  listeners: Array<(n: BackendNotice) => void>;
  resolve(r: BackendReport): void;
  reject(e: Error): void;
}

interface PoolThread {
  id: number;
  worker: PlatformWorker;
  pinned: boolean;
  devices: Map<number, PoolDevice>;
}

export interface BackendPoolOptions {
  /** Shared threads at most (and pinned threads at most). Default: the process's cores. */
  maxThreads?: number;
}

export class BackendPool implements BackendRunner {
  private readonly live: PoolThread[] = [];
  private readonly exiting = new Set<Promise<number>>();
  private nextKey = 1;
  private nextThread = 1;

  constructor(private readonly threadUrl: URL, private readonly opts: BackendPoolOptions = {}) {}

  /** The cap on shared threads (and on pinned ones). */
  get maxThreads(): number { return this.opts.maxThreads ?? coreCount(); }

  start(start: BackendStart, opts: BackendStartOptions = {}): BackendHandle {
    const t = this.sharing(opts.share) ?? this.choose(opts.pin === true, start);
    const key = this.nextKey++;
    let resolve!: (r: BackendReport) => void;
    let reject!: (e: Error) => void;
    const done = new Promise<BackendReport>((res, rej) => { resolve = res; reject = rej; });
    const dev: PoolDevice = { busName: start.busName, deviceId: start.deviceId, owner: opts.owner, share: opts.share, listeners: [], resolve, reject };
    t.devices.set(key, dev);
    const posted = new SharedArrayBuffer(4);
    const count = new Int32Array(posted);
    this.send(t, { t: 'add', key, start: { ...start, ...(opts.share !== undefined ? { share: opts.share } : {}) }, posted });
    return {
      // Counted before it is posted (seq-cst): see BackendMember.controlsInFlight for why
      // the thread then never serves a request made after this post with the old state.
      post: (msg) => { const seq = Atomics.add(count, 0, 1) + 1; this.send(t, { t: 'ctl', key, seq: seq | 0, msg }); },
      onNotice: (fn) => { dev.listeners.push(fn); },
      done,
    };
  }

  threads(): BackendThreadInfo[] {
    return this.live.map((t) => ({
      id: t.id,
      pinned: t.pinned,
      devices: [...t.devices.values()].map((d) => ({ busName: d.busName, deviceId: d.deviceId, owner: d.owner })),
    }));
  }

  /** Ends the threads that serve no device and waits until every ended thread is gone. */
  async close(): Promise<void> {
    for (const t of [...this.live]) if (t.devices.size === 0) this.end(t);
    while (this.exiting.size > 0) await Promise.all([...this.exiting]);
  }

  /** The thread that already runs the model `share` names, if any (a pin does not move it). */
  private sharing(share: number | undefined): PoolThread | undefined {
    if (share === undefined) return undefined;
    return this.live.find((t) => [...t.devices.values()].some((d) => d.share === share));
  }

  private choose(pin: boolean, start: BackendStart): PoolThread {
    const max = this.maxThreads;
    // Pins beyond one per core share the pool instead (the admin view shows where each device runs):
    // starting a device never fails for want of a thread.
    if (pin && this.live.filter((t) => t.pinned).length < max) return this.spawn(true, start.spin);
    const shared = this.live.filter((t) => !t.pinned);
    let best: PoolThread | undefined;
    for (const t of shared) if (!best || t.devices.size < best.devices.size) best = t;
    if (best && (best.devices.size === 0 || shared.length >= max)) return best;
    return this.spawn(false, undefined);
  }

  private spawn(pinned: boolean, spin: BackendStart['spin']): PoolThread {
    const id = this.nextThread++;
    const data: PoolThreadData = { id, ...(pinned && spin ? { spin } : {}) };
    const worker = spawnWorker(this.threadUrl, data, { name: `vbus-backend-${id}${pinned ? '-pinned' : ''}` });
    const t: PoolThread = { id, worker, pinned, devices: new Map() };
    this.live.push(t);
    worker.onMessage((m) => this.onEvent(t, m as PoolEvent));
    worker.onExit(() => this.lost(t, 'EIO', `backend thread ${id} ended while it served devices`));
    worker.onError((e) => this.lost(t, 'EIO', `backend thread ${id} failed: ${e.message}`));
    return t;
  }

  private onEvent(t: PoolThread, e: PoolEvent): void {
    const dev = t.devices.get(e.key);
    if (!dev) return;
    switch (e.t) {
      case 'notice':
        for (const fn of dev.listeners) { try { fn(e.notice); } catch { /* a listener cannot break the pool */ } }
        break;
      case 'ended':
        this.drop(t, e.key);
        dev.resolve(e.report);
        break;
      case 'failed':
        this.drop(t, e.key);
        dev.reject(vbusError(e.code as ErrnoCode, e.message, { bus: dev.busName, device: dev.deviceId }));
        break;
    }
  }

  /** A device left its thread; a thread left with none ends. */
  private drop(t: PoolThread, key: number): void {
    t.devices.delete(key);
    if (t.devices.size === 0) this.end(t);
  }

  private end(t: PoolThread): void {
    const i = this.live.indexOf(t);
    if (i < 0) return;
    this.live.splice(i, 1); // no device is assigned to it from now on
    const p = t.worker.terminate();
    this.exiting.add(p);
    void p.finally(() => this.exiting.delete(p));
  }

  /** The thread died under its devices: each of them ends with an error (the host tears them down). */
  private lost(t: PoolThread, code: ErrnoCode, message: string): void {
    const i = this.live.indexOf(t);
    if (i >= 0) this.live.splice(i, 1);
    const devs = [...t.devices.values()];
    t.devices.clear();
    for (const d of devs) d.reject(vbusError(code, message, { bus: d.busName, device: d.deviceId }));
  }

  private send(t: PoolThread, cmd: PoolCommand): void {
    t.worker.postMessage(cmd);
  }
}

/**
 * Host side of guest workers: start a worker as a member of a bus endpoint, notice when
 * it exits or crashes, and clean up after it (connections closed, regions returned,
 * waiters woken) so the devices stay usable by others.
 */
import { spawnWorker, type PlatformWorker } from '../platform/index.js';
import { ERRNO, VbusError, type ErrnoCode } from '../errors.js';
import type { BusEndpoint } from './bus-endpoint.js';
import { hostMirror, openGuestChannel } from '../transport/message-bus.js';
import type { GuestControlMessage, GuestStartData } from './types.js';

export interface StartGuestOptions {
  /** Passed to the guest as `guest.data`. */
  data?: unknown;
  /** Passed to the guest as `guest.resumed` (a restored bus, src/snapshot). */
  resume?: unknown;
  name?: string;
  /** Called when the guest asks for a child (inherited membership). Returns the child's member id. */
  onSpawnChild?(url: URL, data: unknown, name?: string): Promise<number> | number;
  /** Called once the worker has ended and its membership was cleaned up. */
  onExit?(code: number): void;
  /**
   * Called when the guest failed (an uncaught error, a module that did not load, a
   * driver's probe/remove that threw); `handled` tells whether a listener added with
   * GuestWorker.onError saw it.
   */
  onError?(error: VbusError, handled: boolean): void;
}

/** How a guest ended: its exit code, and the error that ended it (null for a clean exit or a terminate). */
export interface GuestExit {
  code: number;
  error: VbusError | null;
}

/** A guest's failure as a VbusError naming the guest; the original error is `details.cause`. */
function guestFailure(e: Error, name: string, memberId: number, busName: string): VbusError {
  const raw = (e as { code?: unknown }).code;
  const inner = e instanceof VbusError ? e.message : `${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}`;
  const code: ErrnoCode = typeof raw === 'string' && raw in ERRNO ? (raw as ErrnoCode) : 'EIO';
  return new VbusError(code, `guest ${name} (member ${memberId} on bus ${busName}) failed: ${inner}`, { memberId, bus: busName, cause: e });
}

/** A running guest as the host sees it. */
export class GuestWorker {
  /**
   * Resolves once the worker has ended: `{ code, error }`. A guest that never exits by
   * itself keeps it pending until stop(), terminate(), or the host's release().
   */
  readonly exited: Promise<GuestExit>;
  private ended = false;
  private failure: VbusError | null = null;
  private readonly errorListeners = new Set<(error: VbusError) => void>();
  /** The module and data it was started with (a saved bus restarts it from them). */
  origin: { url: string; data: unknown } = { url: '', data: undefined };
  constructor(readonly memberId: number, readonly worker: PlatformWorker, readonly endpoint: BusEndpoint) {
    this.exited = worker.exited.then((code) => ({ code, error: this.failure }));
  }
  get running(): boolean { return !this.ended; }
  /** The error that ended the guest, once it failed (else null). */
  get error(): VbusError | null { return this.failure; }
  /** Listens for the guest's failure; a listener counts as handling it (no default log). Returns an unsubscribe function. */
  onError(fn: (error: VbusError) => void): () => void {
    this.errorListeners.add(fn);
    return () => { this.errorListeners.delete(fn); };
  }
  /** Application messages from the guest (guest.post). */
  onMessage(fn: (message: unknown) => void): void {
    this.worker.onMessage((m) => {
      if (typeof m === 'object' && m !== null && String((m as { type?: unknown }).type ?? '').startsWith('vbus:')) return;
      fn(m);
    });
  }
  postMessage(message: unknown): void { this.worker.postMessage(message); }
  /** Stops the worker now; its membership is cleaned up as for a crash. */
  async terminate(): Promise<GuestExit> {
    await this.worker.terminate();
    return this.exited;
  }
  /**
   * Asks the guest to exit (its `guest.onStop` handlers run, then it exits with code 0)
   * and terminates it if it has not ended within `timeoutMs` (a guest blocked in a
   * synchronous wait cannot see the request).
   */
  async stop(timeoutMs = 1000): Promise<GuestExit> {
    if (!this.ended) this.worker.postMessage({ type: 'vbus:stop' } satisfies GuestControlMessage);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'late'>((r) => { timer = setTimeout(() => r('late'), timeoutMs); });
    const first = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    return first === 'late' ? this.terminate() : first;
  }
  /** @internal */
  markEnded(): void { this.ended = true; }
  /** @internal Records the failure and tells the listeners; returns whether any listened. */
  fail(error: VbusError): boolean {
    this.failure ??= error;
    for (const fn of this.errorListeners) fn(error);
    return this.errorListeners.size > 0;
  }
}

/** Starts `url` as a guest worker that is member `memberId` of the endpoint's bus. */
export function startGuest(endpoint: BusEndpoint, memberId: number, url: URL, opts: StartGuestOptions = {}): GuestWorker {
  const boot = endpoint.addMember(memberId);
  if (opts.data !== undefined) boot.data = opts.data;
  if (opts.resume !== undefined) boot.resume = opts.resume;
  // Message transport: the guest gets a channel and a snapshot instead of the memory.
  const side = hostMirror(endpoint.memory);
  const channel = side ? openGuestChannel(side) : null;
  let worker: PlatformWorker;
  try {
    const start = channel ? { ...boot, memory: undefined as never, mirror: channel.boot } : boot;
    worker = spawnWorker(url, { vbusBoot: start } satisfies GuestStartData, { name: opts.name ?? `guest-${memberId}`, ...(channel ? { transfer: channel.transfer } : {}) });
  } catch (e) {
    if (channel) side!.removePeer(channel.peer);
    endpoint.removeMember(memberId);
    throw e;
  }
  const g = new GuestWorker(memberId, worker, endpoint);
  const name = opts.name ?? `guest-${memberId}`;
  worker.onError((e) => {
    const err = guestFailure(e, name, memberId, boot.busName);
    const handled = g.fail(err);
    opts.onError?.(err, handled);
  });
  g.origin = { url: url.href, data: opts.data };
  worker.onMessage((m) => {
    const msg = m as GuestControlMessage;
    if (typeof msg !== 'object' || msg === null || msg.type !== 'vbus:spawn-child') return;
    const answer = (r: { memberId?: number; error?: { code: string; message: string } }): void => {
      worker.postMessage({ type: 'vbus:child', req: msg.req, ...r } satisfies GuestControlMessage);
    };
    if (!opts.onSpawnChild) {
      answer({ error: { code: 'ENOTSUP', message: 'this host does not let guests spawn children' } });
      return;
    }
    Promise.resolve()
      .then(() => opts.onSpawnChild!(new URL(msg.url), msg.data, msg.name))
      .then((id) => answer({ memberId: id }), (e: unknown) => answer({ error: { code: e instanceof VbusError ? e.code : 'EIO', message: String((e as Error)?.message ?? e) } }));
  });
  worker.onExit((code) => {
    g.markEnded();
    try { endpoint.removeMember(memberId); } catch { /* already removed by an explicit leave */ }
    if (channel) side!.removePeer(channel.peer);
    opts.onExit?.(code);
  });
  return g;
}


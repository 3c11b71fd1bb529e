/**
 * Host side of guest workers: start a worker as a member of a bus endpoint, notice when
 * it exits or crashes, and clean up after it (connections closed, regions returned,
 * waiters woken) so the devices stay usable by others.
 */
import { spawnWorker, type PlatformWorker } from '../platform/index.js';
import { ERRNO, VbusError, type ErrnoCode } from '../errors.js';
import type { BusEndpoint } from './bus-endpoint.js';
import { hostMirror, openGuestChannel } from '../transport/message-bus.js';
import type { GuestControlMessage, GuestStartData, ParkedBus } from './types.js';

export interface StartGuestOptions {
  /** Passed to the guest as `guest.data`. */
  data?: unknown;
  /** Passed to the guest as `guest.resumed` (a restored bus, src/snapshot). */
  resume?: unknown;
  /** The guest connector's saved state (src/guest/resume.ts). */
  resumeConnector?: unknown;
  name?: string;
  /** False: the guest's calls take no call turns (src/core/call-turns.ts). */
  callTurns?: boolean;
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
  /**
   * A worker started ahead for this guest (same module): it gets its boot as a message
   * instead of a new worker being started. One that has ended is not used.
   */
  parked?: ParkedWorker;
}

/**
 * A guest worker started before its bus membership exists: it loads its module (the
 * slow part of a start, 0.5-2 s on a loaded machine) and waits in joinBus() for its boot.
 * A migration's target parks its guests during pre-copy and boots them at GO.
 */
export class ParkedWorker {
  readonly worker: PlatformWorker;
  /** Resolves once the module has loaded and waits for its boot ('vbus:parked'), or the worker ended. */
  readonly waiting: Promise<void>;
  private ended = false;
  private taken = false;
  /** `bus`: the bus memory it will join, if known now (ParkedBus); the worker attaches to it while parked. */
  constructor(readonly url: URL, readonly name: string, readonly bus?: ParkedBus) {
    this.worker = spawnWorker(url, { vbusParked: true, ...(bus ? { bus } : {}) } satisfies GuestStartData, { name });
    let parked!: () => void;
    this.waiting = new Promise((r) => { parked = r; });
    this.worker.onMessage((m) => { if ((m as GuestControlMessage | null)?.type === 'vbus:parked') parked(); });
    this.worker.onExit(() => { this.ended = true; parked(); });
    // A module that fails to load ends the worker; the guest's own start then starts
    // another worker, which reports the failure where it belongs.
    this.worker.onError(() => { this.ended = true; parked(); });
  }
  /** Hands the worker over once, if it is still alive and runs `url`. */
  take(url: URL): PlatformWorker | null {
    if (this.taken || this.ended || url.href !== this.url.href) return null;
    this.taken = true;
    return this.worker;
  }
  /** Ends the worker unless it was taken. */
  async discard(): Promise<void> {
    if (this.taken) return;
    this.taken = true;
    await this.worker.terminate();
  }
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
  /**
   * Resolves once the guest's program has joined the bus and run on to its first wait
   * ('vbus:joined', see joinBus): from then on it serves. Never resolves for a guest
   * that does not call joinBus() or ends first.
   */
  readonly joined: Promise<void>;
  private markJoinedFn!: () => void;
  private ended = false;
  private failure: VbusError | null = null;
  private readonly errorListeners = new Set<(error: VbusError) => void>();
  /** The module and data it was started with (a saved bus restarts it from them). */
  origin: { url: string; data: unknown } = { url: '', data: undefined };
  constructor(readonly memberId: number, readonly worker: PlatformWorker, readonly endpoint: BusEndpoint) {
    this.exited = worker.exited.then((code) => ({ code, error: this.failure }));
    this.joined = new Promise((r) => { this.markJoinedFn = r; });
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
  /** @internal */
  markJoined(): void { this.markJoinedFn(); }
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
  if (opts.resumeConnector !== undefined) boot.resumeConnector = opts.resumeConnector;
  if (opts.callTurns === false) boot.callTurns = false;
  // Message transport: the guest gets a channel and a snapshot instead of the memory.
  const side = hostMirror(endpoint.memory);
  const channel = side ? openGuestChannel(side) : null;
  let worker: PlatformWorker;
  try {
    const start = channel ? { ...boot, memory: undefined as never, mirror: channel.boot } : boot;
    const parked = opts.parked?.take(url);
    const sameBus = !channel && opts.parked?.bus?.memory === endpoint.memory.memory;
    if (parked) parked.postMessage({ type: 'vbus:boot', boot: start, ...(sameBus ? { sameBus } : {}) } satisfies GuestControlMessage, channel?.transfer);
    worker = parked ?? spawnWorker(url, { vbusBoot: start } satisfies GuestStartData, { name: opts.name ?? `guest-${memberId}`, ...(channel ? { transfer: channel.transfer } : {}) });
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
    if (typeof msg === 'object' && msg !== null && msg.type === 'vbus:joined') g.markJoined();
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


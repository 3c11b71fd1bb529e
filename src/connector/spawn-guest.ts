/**
 * Host side of guest workers: start a worker as a member of a bus endpoint, notice when
 * it exits or crashes, and clean up after it (connections closed, regions returned,
 * waiters woken) so the devices stay usable by others.
 */
import { spawnWorker, type PlatformWorker } from '../platform/index.js';
import { VbusError } from '../errors.js';
import type { BusEndpoint } from './bus-endpoint.js';
import { hostMirror, openGuestChannel } from '../transport/message-bus.js';
import type { GuestControlMessage, GuestStartData } from './types.js';

export interface StartGuestOptions {
  /** Passed to the guest as `guest.data`. */
  data?: unknown;
  name?: string;
  /** Called when the guest asks for a child (inherited membership). Returns the child's member id. */
  onSpawnChild?(url: URL, data: unknown, name?: string): Promise<number> | number;
  /** Called once the worker has ended and its membership was cleaned up. */
  onExit?(code: number): void;
}

/** A running guest as the host sees it. */
export class GuestWorker {
  readonly exited: Promise<number>;
  private ended = false;
  constructor(readonly memberId: number, readonly worker: PlatformWorker, readonly endpoint: BusEndpoint) {
    this.exited = worker.exited;
  }
  get running(): boolean { return !this.ended; }
  /** Application messages from the guest (guest.post). */
  onMessage(fn: (message: unknown) => void): void {
    this.worker.onMessage((m) => {
      if (typeof m === 'object' && m !== null && String((m as { type?: unknown }).type ?? '').startsWith('vbus:')) return;
      fn(m);
    });
  }
  postMessage(message: unknown): void { this.worker.postMessage(message); }
  /** Stops the worker; its membership is cleaned up as for a crash. */
  terminate(): Promise<number> { return this.worker.terminate(); }
  /** @internal */
  markEnded(): void { this.ended = true; }
}

/** Starts `url` as a guest worker that is member `memberId` of the endpoint's bus. */
export function startGuest(endpoint: BusEndpoint, memberId: number, url: URL, opts: StartGuestOptions = {}): GuestWorker {
  const boot = endpoint.addMember(memberId);
  if (opts.data !== undefined) boot.data = opts.data;
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


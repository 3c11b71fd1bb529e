/**
 * Inside a guest worker: joining the bus the host started it on, and asking the host for
 * a child on the same bus (inherited membership, like a forked task in the original).
 */
import { workerContext, type WorkerContext } from '../platform/index.js';
import { ERRNO, vbusError, VbusError, type ErrnoCode } from '../errors.js';
import type { GuestBoot, GuestControlMessage, GuestStartData } from '../connector/types.js';
import { GuestConnector } from './connector.js';

export type { GuestStartData, GuestControlMessage } from '../connector/types.js';

let joined: Guest | undefined;

/** The guest connector plus the worker's control channel. */
export class Guest extends GuestConnector {
  private nextReq = 1;
  private readonly waiting = new Map<number, { resolve(id: number): void; reject(e: Error): void }>();

  constructor(boot: GuestBoot, private readonly ctx: WorkerContext<GuestStartData>) {
    super(boot);
    ctx.onMessage((m) => this.onControl(m as GuestControlMessage));
  }

  /** Data the spawner passed (spawnGuest's `data`). */
  get data(): unknown { return this.boot.data; }

  /**
   * Asks the host to start `url` as a child guest on this guest's bus (it inherits the
   * membership). Resolves with the child's member id.
   */
  spawnChild(url: URL | string, data?: unknown, name?: string): Promise<number> {
    const req = this.nextReq++;
    return new Promise((resolve, reject) => {
      this.waiting.set(req, { resolve, reject });
      const href = typeof url === 'string' ? url : url.href;
      this.ctx.postMessage({ type: 'vbus:spawn-child', req, url: href, data, ...(name ? { name } : {}) } satisfies GuestControlMessage);
    });
  }

  /** Sends an application message to the host (the spawner's onMessage). */
  post(message: unknown): void { this.ctx.postMessage(message); }

  /** Application messages from the host. */
  onMessage(fn: (message: unknown) => void): void {
    this.ctx.onMessage((m) => { if (!isControl(m)) fn(m); });
  }

  /** Closes connections and ends the worker. */
  exit(code = 0): void {
    this.close();
    this.ctx.exit(code);
  }

  private onControl(m: GuestControlMessage): void {
    if (!isControl(m) || m.type !== 'vbus:child') return;
    const w = this.waiting.get(m.req);
    if (!w) return;
    this.waiting.delete(m.req);
    if (m.memberId !== undefined) w.resolve(m.memberId);
    else {
      const code = m.error && m.error.code in ERRNO ? (m.error.code as ErrnoCode) : 'EIO';
      w.reject(new VbusError(code, m.error?.message ?? 'child spawn failed'));
    }
  }
}

function isControl(m: unknown): m is GuestControlMessage {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string' && (m as { type: string }).type.startsWith('vbus:');
}

/**
 * Joins the bus this worker was started on (once; later calls return the same guest).
 * Devices present at start are known when it resolves; events flow from then on.
 */
export async function joinBus(): Promise<Guest> {
  if (joined) return joined;
  const ctx = await workerContext<GuestStartData>();
  const boot = ctx.data?.vbusBoot;
  if (!boot) throw vbusError('EINVAL', 'this worker was not started as a vbus guest (no vbusBoot in its start data); start it with spawnGuest()');
  joined = new Guest(boot, ctx);
  joined.startEvents();
  return joined;
}

/**
 * Inside a guest worker: joining the bus the host started it on, and asking the host for
 * a child on the same bus (inherited membership, like a forked task in the original).
 */
import { workerContext, type WorkerContext } from '../platform/index.js';
import { ERRNO, vbusError, VbusError, type ErrnoCode } from '../errors.js';
import type { GuestBoot, GuestControlMessage, GuestStartData, ParkedBus } from '../connector/types.js';
import { BusMemory } from '../core/bus-memory.js';
import { macrotask } from '../core/macrotask.js';
import { GuestConnector } from './connector.js';
import { callTurns } from '../core/call-turns.js';

export type { GuestStartData, GuestControlMessage } from '../connector/types.js';

/** The guest connector plus the worker's control channel. */
export class Guest extends GuestConnector {
  private nextReq = 1;
  private readonly waiting = new Map<number, { resolve(id: number): void; reject(e: Error): void }>();
  private readonly stopHandlers: Array<() => void | Promise<void>> = [];

  /** `attached`: this worker's attachment to the boot's bus memory, made while it was parked. */
  constructor(boot: GuestBoot, private readonly ctx: WorkerContext<GuestStartData>, attached?: BusMemory) {
    super(boot, attached, boot.callTurns === false ? null : callTurns()); // busy guests take turns with the process's others
    ctx.onMessage((m) => this.onControl(m as GuestControlMessage));
  }

  /** Data the spawner passed (spawnGuest's `data`). */
  get data(): unknown { return this.boot.data; }

  /**
   * What this guest's `onSave` returned when its bus was saved, if this run resumes a
   * saved bus (src/snapshot); undefined on a fresh start.
   */
  get resumed(): unknown { return this.boot.resume; }

  /**
   * Saving the bus, step 1: stop producing new work and wait for what is in flight
   * (writes acknowledged, sent frames taken by the device). Resolve when quiet.
   */
  onQuiesce(fn: () => unknown): void { this.quiesceHook = fn; }
  /**
   * Saving the bus, step 2 (after every guest on the bus is quiet): take in what is
   * still arriving and return this program's state (structured-cloneable). A restored
   * run gets it back as {@link resumed}.
   */
  onSave(fn: () => unknown): void { this.saveHook = fn; }
  /**
   * The save was given up after this guest quiesced or saved (a migration whose target
   * failed, src/migrate): this run goes on, so start the work `onQuiesce` stopped.
   * Resolve once running again.
   */
  onContinue(fn: () => unknown): void { this.continueHook = fn; }
  private quiesceHook: (() => unknown) | null = null;
  private saveHook: (() => unknown) | null = null;
  private continueHook: (() => unknown) | null = null;

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

  /**
   * Runs `fn` when the host asks this guest to stop (GuestWorker.stop()); once every
   * handler has finished, the guest exits with code 0. The host terminates a guest that
   * does not end within its deadline.
   */
  onStop(fn: () => void | Promise<void>): void { this.stopHandlers.push(fn); }

  /** Closes connections and ends the worker with `code` (what the host's `exited` reports). */
  exit(code = 0): void {
    this.close();
    this.ctx.exit(code);
  }

  private onControl(m: GuestControlMessage): void {
    if (isControl(m) && m.type === 'vbus:stop') {
      // A handler that throws fails the guest (the host sees the error), else exit 0.
      void Promise.all(this.stopHandlers.map(async (fn) => fn())).then(() => this.exit(0), (e: unknown) => queueMicrotask(() => { throw e; }));
      return;
    }
    if (isControl(m) && (m.type === 'vbus:quiesce' || m.type === 'vbus:save' || m.type === 'vbus:continue')) {
      const hook = m.type === 'vbus:quiesce' ? this.quiesceHook : m.type === 'vbus:save' ? this.saveHook : this.continueHook;
      const type = m.type === 'vbus:quiesce' ? 'vbus:quiesced' : m.type === 'vbus:save' ? 'vbus:saved' : 'vbus:continued';
      Promise.resolve().then(() => hook?.()).then(
        (state) => this.ctx.postMessage({ type, req: m.req, state, ...(type === 'vbus:saved' ? { connector: this.saveConnector() } : {}) } satisfies GuestControlMessage),
        (e: unknown) => this.ctx.postMessage({ type, req: m.req, error: { code: e instanceof VbusError ? e.code : 'EIO', message: String((e as Error)?.message ?? e) } } satisfies GuestControlMessage),
      );
      return;
    }
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
 *
 * A parked worker (started ahead of its membership, GuestStartData) resolves once its
 * boot arrives. Either way the host hears 'vbus:joined' from the first macrotask after
 * this resolves: the program's code after `await joinBus()` has run to its first wait
 * (devices reopened, work started), which is when a migration counts it as serving.
 */
export function joinBus(): Promise<Guest> {
  joining ??= join();
  return joining;
}

let joining: Promise<Guest> | undefined;

async function join(): Promise<Guest> {
  let ctx: WorkerContext<GuestStartData>;
  try {
    ctx = await workerContext<GuestStartData>();
  } catch (e) {
    joining = undefined; // a later call from a worker that is one after all may try again
    throw vbusError('ENOTSUP', 'joinBus() runs inside a guest worker: start this module with host.spawnGuest(bus, url) (to test a device on this thread, use MockGuest from vbus/testing)', { cause: e });
  }
  const data = ctx.data as Partial<{ vbusBoot: GuestBoot; vbusParked: true; bus: ParkedBus }> | undefined;
  const parked = data?.vbusBoot === undefined && data?.vbusParked ? await bootMessage(ctx, data.bus) : undefined;
  const boot = data?.vbusBoot ?? parked?.boot;
  if (!boot) {
    joining = undefined;
    throw vbusError('EINVAL', 'this worker was not started as a vbus guest (no vbusBoot in its start data); start it with spawnGuest()');
  }
  const guest = new Guest(boot, ctx, parked?.attached);
  guest.startEvents();
  // setImmediate (macrotask), not setTimeout(0): Node clamps that to 1 ms.
  void macrotask().then(() => ctx.postMessage({ type: 'vbus:joined' } satisfies GuestControlMessage));
  return guest;
}

/**
 * A parked worker's boot: attaches to the bus it was parked with, if any (instantiating
 * the core is part of a start that need not wait for the boot), says it waits
 * ('vbus:parked'), then takes the first 'vbus:boot' message from the host. The early
 * attachment is used only when the host says the boot is for that very memory.
 */
function bootMessage(ctx: WorkerContext<GuestStartData>, bus: ParkedBus | undefined): Promise<{ boot: GuestBoot; attached?: BusMemory }> {
  let early: BusMemory | undefined;
  try { early = bus ? BusMemory.attach(bus.memory, bus.module) : undefined; } catch { early = undefined; } // the boot attaches then
  return new Promise((resolve) => {
    let done = false;
    ctx.onMessage((m) => {
      if (done || !isControl(m) || m.type !== 'vbus:boot') return;
      done = true;
      resolve({ boot: m.boot, ...(m.sameBus && early ? { attached: early } : {}) });
    });
    ctx.postMessage({ type: 'vbus:parked' } satisfies GuestControlMessage);
  });
}

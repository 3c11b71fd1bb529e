/**
 * The host's stand-in for a device model that runs in a backend worker. To the bus
 * endpoint it is an ordinary ConnectorModel; underneath it gives every connection a
 * direct call slot that the backend serves (the guest calls it without touching the host
 * event loop), points the device's ring signals at the backend's doorbell, and forwards
 * open/shm/close/attribute changes as control messages.
 *
 * A direct slot returns to the bus allocator only when the backend let go of it and the
 * guest released the handle that names it; the doorbell only when nothing names it.
 */
import { SLOT_HEADER_BYTES, SLOT_DEAD } from '../../../assembly/layout/callslot.js';
import type { BusMemory } from '../../core/bus-memory.js';
import { createSignal, destroySignal, wakeSignal } from '../../core/signal.js';
import { vbusError } from '../../errors.js';
import type { ConnectorModel, DeviceConnection, ShmRegion } from '../types.js';
import type { DevicePlacement, DirectSlot } from '../placement.js';
import { formatSlot, retireSlot } from '../slot-region.js';
import { logDeviceFault, type FaultReporter } from '../slot-server.js';

export type { DirectSlot } from '../placement.js';
import type { BackendReport } from './protocol.js';
import { ERRNO } from '../../errors.js';
import { backendRunner, type BackendHandle, type BackendStartOptions } from './runner.js';
import type { DeviceStats, RingStats, StatsRegion } from '../../stats/region.js';
import { SHM_RING_TO_DEVICE, SHM_RING_TO_GUEST } from '../../../assembly/layout/callslot.js';
import { DIR_TO_DEVICE, DIR_TO_GUEST } from '../../stats/layout.js';

const ENODEV = ERRNO.ENODEV;

/** How to create the model inside the backend: an ES module and the factory it exports. */
export interface BackendModelSpec {
  modelUrl: URL | string;
  modelExport: string;
  /** Passed to the factory (must be structured-cloneable). */
  init?: unknown;
  /** Spin policy of the device's thread when it is pinned (a shared pool thread has its own). */
  spin?: { initial?: number; max?: number; fixed?: number };
  /**
   * One model for every bus the device is linked to (its links share a pool thread and
   * the model instance), for a model that spans buses like venet-switch. Default: one
   * model per link.
   */
  shared?: boolean;
  /** The host's stats region and this device's slot (set by the stats wrapper, src/stats/observe.ts). */
  stats?: { region: StatsRegion; device: DeviceStats };
}

interface Direct {
  slot: number;
  /** The backend let go of the slot (its 'closed' notice, or it stopped). */
  backendDone: boolean;
  /** The guest no longer names the connection (handle closed, or member left). */
  released: boolean;
}

export class BackendProxy implements ConnectorModel, DevicePlacement {
  readonly doorbell: number;
  private readonly handle: BackendHandle;
  /**
   * Direct slots by connection id, from open until both the backend let go and the
   * guest released the handle: only then does the region return to the allocator, so a
   * handle never outlives the slot it names (and never reaches a slot placed after it).
   */
  private readonly directs = new Map<number, Direct>();
  private stopping: Promise<BackendReport> | null = null;
  private stopped = false;
  private doorbellFreed = false;
  /** The backend is gone without a stop (failed to start, or its thread died). */
  private dead = false;
  private faults: FaultReporter = logDeviceFault;
  /** Resets asked of the backend and not answered yet, by request number. */
  private readonly resets = new Map<number, (status: number) => void>();
  private resetSeq = 0;
  /** Stats-region ring slots the host claimed for the backend's rings, by connection. */
  private readonly statRings = new Map<number, RingStats[]>();
  private readonly stats: BackendModelSpec['stats'];

  constructor(
    private readonly bus: BusMemory,
    busName: string,
    deviceId: number,
    spec: BackendModelSpec,
    private readonly slotPayload: number,
    opts: BackendStartOptions = {},
  ) {
    const runner = backendRunner(); // throws ENOTSUP where no backends exist
    // Stats only over shared memory: the thread writes the slots the host reads.
    this.stats = spec.stats && spec.stats.region.sab instanceof SharedArrayBuffer ? spec.stats : undefined;
    this.doorbell = createSignal(bus);
    try {
      this.handle = runner.start({
        memory: bus.memory, module: bus.module, busName, deviceId, doorbell: this.doorbell,
        modelUrl: typeof spec.modelUrl === 'string' ? spec.modelUrl : spec.modelUrl.href,
        modelExport: spec.modelExport, init: spec.init ?? null, slotPayload,
        ...(spec.spin ? { spin: spec.spin } : {}),
        ...(this.stats ? { stats: { region: this.stats.region.sab, slot: this.stats.device.slot } } : {}),
      }, opts);
    } catch (e) {
      destroySignal(bus, this.doorbell);
      throw e;
    }
    // A device that could not start (its module or factory failed) or whose thread died:
    // its fault is reported for it alone, and its slots answer ENODEV from now on.
    this.handle.done.catch((e: unknown) => {
      if (this.stopping) return;
      this.dead = true;
      for (const d of this.directs.values()) retireSlot(this.bus, d.slot, SLOT_DEAD);
      this.faults({ busName, deviceId, memberId: 0, hook: 'backend', message: e instanceof Error ? e.message : String(e) });
    });
    this.handle.onNotice((n) => {
      if (n.t === 'fault') { this.faults(n.fault); return; }
      if (n.t === 'reset-done') { this.resets.get(n.req)?.(n.status); this.resets.delete(n.req); return; }
      const d = this.directs.get(n.connId);
      if (!d) return;
      d.backendDone = true; // the backend will not touch it again
      this.settle(n.connId, d);
    });
  }

  // ----- DevicePlacement

  get sharedDoorbell(): number { return this.doorbell; }

  directSlot(connId: number): DirectSlot | undefined {
    const d = this.directs.get(connId);
    return d && !d.backendDone ? { slot: d.slot, doorbell: this.doorbell } : undefined;
  }

  released(connId: number): void {
    const d = this.directs.get(connId);
    if (d) { d.released = true; this.settle(connId, d); }
  }

  reportFaultsTo(fn: FaultReporter): void { this.faults = fn; }

  resetConnection(connId: number): Promise<number> {
    if (this.stopping || !this.directs.has(connId)) return Promise.resolve(-ENODEV);
    const req = ++this.resetSeq;
    // The endpoint's call deadline (callTimeoutMs) bounds the wait; a stopped backend answers ENODEV.
    return new Promise((resolve) => { this.resets.set(req, resolve); this.post({ t: 'reset', connId, req }); });
  }

  // ----- ConnectorModel

  open(conn: DeviceConnection): void {
    if (this.dead) throw vbusError('ENODEV', 'this device\'s backend could not start or its thread ended (see the device fault reported for it)', {});
    const bus = this.bus;
    const slot = bus.allocRegion(SLOT_HEADER_BYTES + this.slotPayload, 'direct call slot');
    formatSlot(bus, slot);
    this.directs.set(conn.id, { slot, backendDone: false, released: false });
    this.post({ t: 'open', connId: conn.id, memberId: conn.memberId, handle: handleOf(conn), version: conn.version, slot });
  }

  shm(conn: DeviceConnection, region: ShmRegion): void {
    const statsRing = this.claimStatsRing(conn, region);
    this.post({ t: 'shm', connId: conn.id, region, ...(statsRing !== undefined ? { statsRing } : {}) });
  }

  /**
   * The connection is gone (guest close, guest exit, unplug): its direct slot becomes a
   * tombstone at once, so calls in flight and later calls answer ENODEV instead of
   * hanging; the region stays placed until the guest released the handle too.
   */
  close(conn: DeviceConnection): void {
    const d = this.directs.get(conn.id);
    if (d) retireSlot(this.bus, d.slot, SLOT_DEAD);
    this.post({ t: 'close', connId: conn.id });
    this.releaseStatsRings(conn.id);
  }

  attrChanged(name: string, value: string): void {
    this.post({ t: 'attr', name, value });
  }

  /** Stops the backend. Regions the guests still name stay until they release them. Resolves with its counters. */
  stop(): Promise<BackendReport> {
    this.stopping ??= (async () => {
      this.post({ t: 'stop' });
      for (const d of this.directs.values()) retireSlot(this.bus, d.slot, SLOT_DEAD);
      try {
        return await this.handle.done;
      } catch {
        return { served: 0, polled: 0 }; // it failed before the stop, and that was reported as its fault
      } finally {
        // Ended (or its thread died): nothing in the backend touches the device's memory now.
        this.stopped = true;
        for (const r of this.resets.values()) r(-ENODEV);
        this.resets.clear();
        for (const id of [...this.statRings.keys()]) this.releaseStatsRings(id);
        for (const [id, d] of [...this.directs]) { d.backendDone = true; this.settle(id, d); }
        this.maybeFreeDoorbell();
      }
    })();
    return this.stopping;
  }

  /** A stats ring slot for a ring of `conn` (the host owns the region's free lists). Undefined: uncounted. */
  private claimStatsRing(conn: DeviceConnection, region: ShmRegion): number | undefined {
    const st = this.stats;
    if (!st || (region.kind !== SHM_RING_TO_DEVICE && region.kind !== SHM_RING_TO_GUEST)) return undefined;
    let r: RingStats;
    try {
      r = st.region.claimRing(st.device, { bus: conn.busName, member: conn.memberId, queue: region.queue, direction: region.kind === SHM_RING_TO_DEVICE ? DIR_TO_DEVICE : DIR_TO_GUEST, capacity: region.bytes });
    } catch { return undefined; } // region full: the ring goes uncounted, the data path is unaffected
    const list = this.statRings.get(conn.id) ?? [];
    list.push(r);
    this.statRings.set(conn.id, list);
    return r.slot;
  }

  private releaseStatsRings(connId: number): void {
    const list = this.statRings.get(connId);
    if (!list) return;
    this.statRings.delete(connId);
    for (const r of list) this.stats!.region.releaseRing(r);
  }

  /** Frees a direct slot once neither side names it. */
  private settle(connId: number, d: Direct): void {
    if (!d.backendDone || !d.released) return;
    this.directs.delete(connId);
    this.bus.freeRegion(d.slot);
    this.maybeFreeDoorbell();
  }

  /** The doorbell is the device side of every ring the backend's connections placed: freed last. */
  private maybeFreeDoorbell(): void {
    if (!this.stopped || this.doorbellFreed || this.directs.size > 0) return;
    this.doorbellFreed = true;
    destroySignal(this.bus, this.doorbell);
  }

  private post(msg: Parameters<BackendHandle['post']>[0]): void {
    if (this.stopped) return;
    this.handle.post(msg);
    // Wake the backend even if it disabled notification (after the message was queued on the port).
    wakeSignal(this.bus, this.doorbell);
  }
}

function handleOf(conn: DeviceConnection): number {
  return (conn as unknown as { handle: number }).handle;
}

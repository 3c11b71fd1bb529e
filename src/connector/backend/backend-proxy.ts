/**
 * The host's stand-in for a device model that runs in a backend worker. To the bus
 * endpoint it is an ordinary ConnectorModel; underneath it gives every connection a
 * direct call slot that the backend serves (the guest calls it without touching the host
 * event loop), points the device's ring signals at the backend's doorbell, and forwards
 * open/shm/close/attribute changes as control messages.
 *
 * Direct slots are not reused after a close (the backend may still be finishing a call
 * on one); they return to the bus allocator when the backend stops.
 */
import { SLOT_MAGIC, SLOT_VERSION, SLOT_OFF_MAGIC, SLOT_OFF_VERSION, SLOT_OFF_STATE, SLOT_HEADER_BYTES, SLOT_DEAD } from '../../../assembly/layout/callslot.js';
import type { BusMemory } from '../../core/bus-memory.js';
import { createSignal, destroySignal, wakeSignal } from '../../core/signal.js';
import type { ConnectorModel, DeviceConnection, ShmRegion } from '../types.js';
import type { BackendReport } from './protocol.js';
import { backendRunner, type BackendHandle } from './runner.js';

/** How to create the model inside the backend: an ES module and the factory it exports. */
export interface BackendModelSpec {
  modelUrl: URL | string;
  modelExport: string;
  /** Passed to the factory (must be structured-cloneable). */
  init?: unknown;
  spin?: { initial?: number; max?: number; fixed?: number };
}

/** Where a connection's direct slot is (returned to the guest in the DEVOPEN reply). */
export interface DirectSlot {
  slot: number;
  doorbell: number;
}

export class BackendProxy implements ConnectorModel {
  readonly doorbell: number;
  private readonly handle: BackendHandle;
  /** Live direct slots by connection id, and tombstones waiting for the backend's 'closed'. */
  private readonly slots = new Map<number, number>();
  private readonly tombstones = new Map<number, number>();
  readonly direct = new Map<number, DirectSlot>();
  private stopping: Promise<BackendReport> | null = null;

  constructor(
    private readonly bus: BusMemory,
    busName: string,
    deviceId: number,
    spec: BackendModelSpec,
    private readonly slotPayload: number,
  ) {
    const runner = backendRunner(); // throws ENOTSUP where no backends exist
    this.doorbell = createSignal(bus);
    try {
      this.handle = runner.start({
        memory: bus.memory, module: bus.module, busName, deviceId, doorbell: this.doorbell,
        modelUrl: typeof spec.modelUrl === 'string' ? spec.modelUrl : spec.modelUrl.href,
        modelExport: spec.modelExport, init: spec.init ?? null, slotPayload,
        ...(spec.spin ? { spin: spec.spin } : {}),
      });
    } catch (e) {
      destroySignal(bus, this.doorbell);
      throw e;
    }
    this.handle.onNotice((n) => {
      if (n.t !== 'closed') return;
      const slot = this.tombstones.get(n.connId);
      if (slot === undefined) return;
      this.tombstones.delete(n.connId);
      this.bus.freeRegion(slot); // the backend will not touch it again
    });
  }

  /** Signal that a backend device's rings use for the direction the backend waits on. */
  sharedDoorbell(): number { return this.doorbell; }

  open(conn: DeviceConnection): void {
    const bus = this.bus;
    const slot = bus.allocRegion(SLOT_HEADER_BYTES + this.slotPayload, 'direct call slot');
    bus.u8.fill(0, slot, slot + SLOT_HEADER_BYTES);
    bus.u32[(slot + SLOT_OFF_VERSION) >> 2] = SLOT_VERSION;
    Atomics.store(bus.u32, (slot + SLOT_OFF_MAGIC) >> 2, SLOT_MAGIC); // fields before the magic
    this.slots.set(conn.id, slot);
    this.direct.set(conn.id, { slot, doorbell: this.doorbell });
    this.post({ t: 'open', connId: conn.id, memberId: conn.memberId, handle: handleOf(conn), version: conn.version, slot });
  }

  shm(conn: DeviceConnection, region: ShmRegion): void {
    this.post({ t: 'shm', connId: conn.id, region });
  }

  /**
   * The connection is gone (guest close, guest exit, unplug): its direct slot becomes a
   * tombstone at once, so calls in flight and later calls answer ENODEV instead of
   * hanging; the region returns to the allocator when the backend confirms it let go.
   */
  close(conn: DeviceConnection): void {
    this.direct.delete(conn.id);
    const slot = this.slots.get(conn.id);
    if (slot !== undefined) {
      this.slots.delete(conn.id);
      this.tombstones.set(conn.id, slot);
      tombstone(this.bus, slot);
    }
    this.post({ t: 'close', connId: conn.id });
  }

  attrChanged(name: string, value: string): void {
    this.post({ t: 'attr', name, value });
  }

  /** Stops the backend and returns its regions. Resolves with its counters. */
  stop(): Promise<BackendReport> {
    this.stopping ??= (async () => {
      this.post({ t: 'stop' });
      for (const slot of this.slots.values()) tombstone(this.bus, slot);
      const report = await this.handle.done;
      for (const s of this.slots.values()) this.bus.freeRegion(s);
      for (const s of this.tombstones.values()) this.bus.freeRegion(s);
      this.slots.clear();
      this.tombstones.clear();
      destroySignal(this.bus, this.doorbell);
      return report;
    })();
    return this.stopping;
  }

  private post(msg: Parameters<BackendHandle['post']>[0]): void {
    this.handle.post(msg);
    // Wake the backend even if it disabled notification (after the message was queued on the port).
    wakeSignal(this.bus, this.doorbell);
  }
}

/** Marks a direct slot dead and wakes a guest parked on it. */
function tombstone(bus: BusMemory, slot: number): void {
  bus.u32[(slot + SLOT_OFF_MAGIC) >> 2] = 0;
  const idx = (slot + SLOT_OFF_STATE) >> 2;
  Atomics.store(bus.i32, idx, SLOT_DEAD); // after the magic: a guest that checks either sees the end
  Atomics.notify(bus.i32, idx);
}

function handleOf(conn: DeviceConnection): number {
  return (conn as unknown as { handle: number }).handle;
}

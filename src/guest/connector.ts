/**
 * The guest connector: what a driver in a guest worker uses to see and reach the
 * devices on its bus, and nothing else.
 *
 *   const guest = await joinBus();                         // in the worker
 *   guest.driver('virtual-ethernet', { probe(dev) { const c = guest.open(dev.id); ... },
 *                                      remove(dev) { ... } });
 *
 * Device-add / device-remove arrive as DEVADD / DEVDROP records on this member's event
 * ring; drivers registered by interface type get probe() for devices present at start
 * and for every later link, remove() for every unlink. Events are delivered from the
 * worker's event loop (Atomics.waitAsync on the event signal), or explicitly with
 * pollEvents() by a guest that keeps its thread busy.
 */
import { OP_DEVOPEN } from '../../assembly/layout/callslot.js';
import { EV_DEVADD, EV_DEVDROP, EV_DEVEVENT, EV_SHUTDOWN, EV_RESYNC_BEGIN, EV_RESYNC_END, EV_RECORD_MAX, EV_DEVFAULT, EV_DEVRESET } from '../../assembly/layout/event.js';
import { RING_MAGIC, RING_OFF_MAGIC, RING_OFF_FAULT, RING_OFF_CAPACITY } from '../../assembly/layout/ring.js';
import { decodeDevAdd, decodeDevDrop, decodeDevEvent } from '../connector/event-records.js';
import { VbusError, vbusError } from '../errors.js';
import { BusMemory } from '../core/bus-memory.js';
import { attachMirroredGuest } from '../transport/message-bus.js';
import { RingConsumer } from '../core/ring.js';
import { Status } from '../core/status.js';
import { Waiter } from '../core/signal.js';
import type { CallTurns } from '../core/call-turns.js';
import { serveAsync } from '../core/serve-loop.js';
import type { GuestBoot } from '../connector/types.js';
import { CallClient, type CallOptions } from './call-client.js';
import { Connection, connectionStatus, openFailure, type ConnectionFaultEvent } from './connection.js';
import { readSavedConnector, type SavedGuestConnection, type SavedGuestConnector } from './resume.js';

/** A device as a guest sees it: an id on its bus and the interface type. */
export interface GuestDevice {
  readonly id: number;
  readonly type: string;
}

/** A driver for one interface type. */
export interface Driver {
  probe(device: GuestDevice, guest: GuestConnector): void | Promise<void>;
  remove?(device: GuestDevice, guest: GuestConnector): void | Promise<void>;
}

/** A device event (DEVEVENT) posted by a device model to one connection. */
export interface DeviceEvent {
  deviceId: number;
  handle: number;
  code: number;
  arg: number;
}

export class GuestConnector {
  readonly bus: BusMemory;
  readonly boot: GuestBoot;
  readonly client: CallClient;
  private events: RingConsumer;
  private readonly eventWaiter: Waiter;
  private readonly known = new Map<number, GuestDevice>();
  private readonly drivers = new Map<string, Driver>();
  private readonly bound = new Map<number, Driver>();
  private readonly conns = new Set<Connection>();
  private readonly eventListeners = new Set<(e: DeviceEvent) => void>();
  private readonly faultListeners = new Set<(e: ConnectionFaultEvent) => void>();
  private readonly scratch = new Uint8Array(EV_RECORD_MAX);
  private pumping = false;
  private shutdown = false;

  /** Call turns this connector's synchronous calls take (null: none; src/core/call-turns.ts). */
  private readonly turns: CallTurns | null;

  /**
   * `attached`: an attachment to `boot.memory` made earlier (a parked worker's,
   * src/guest/join.ts). `turns`: a guest worker passes its thread's call turns; an
   * in-process guest (the test kit) none.
   */
  constructor(boot: GuestBoot, attached?: BusMemory, turns: CallTurns | null = null) {
    this.boot = boot;
    this.turns = turns;
    if (turns && boot.turnKey) turns.key = boot.turnKey; // while it holds the turn, the host spins on this bus
    this.bus = boot.mirror ? attachMirroredGuest(boot.mirror, boot.module) : attached ?? BusMemory.attach(boot.memory, boot.module);
    this.client = new CallClient(this.bus, boot, {}, turns);
    this.events = new RingConsumer(this.bus, boot.events);
    this.eventWaiter = new Waiter(this.bus, boot.eventSignal, { fixed: 0 });
    const saved = boot.resumeConnector !== undefined ? readSavedConnector(boot.resumeConnector) : null;
    if (saved) {
      // A resumed guest: the devices it knew (their DEVADDs were read before the save),
      // then the events that came after, still in the restored event ring.
      for (const d of saved.devices) this.known.set(d.id, { id: d.id, type: d.type });
      this.resumable = saved.conns;
    }
    this.pollEvents(); // the devices present at start
  }

  get memberId(): number { return this.boot.memberId; }
  get busName(): string { return this.boot.busName; }
  /** True once the host tore this member down. */
  get isShutdown(): boolean { return this.shutdown; }

  /** Devices on this bus now (as far as the events processed so far tell). */
  devices(): GuestDevice[] { return [...this.known.values()].sort((a, b) => a.id - b.id); }

  /**
   * Registers the driver for an interface type. probe() runs at once for matching
   * devices already present, and later for every device-add.
   */
  driver(type: string, driver: Driver): void {
    if (this.drivers.has(type)) throw vbusError('EEXIST', `a driver for '${type}' is already registered`, { type });
    this.drivers.set(type, driver);
    for (const d of this.devices()) if (d.type === type) this.bind(d, driver);
  }

  /** Listens for device events (e.g. link up/down). Returns an unsubscribe function. */
  onDeviceEvent(fn: (e: DeviceEvent) => void): () => void {
    this.eventListeners.add(fn);
    return () => { this.eventListeners.delete(fn); };
  }

  /**
   * Listens for DEVFAULT ('fault': a connection of this guest needs a reset, with the
   * host's reason) and DEVRESET ('reset': its rings were re-formatted) events, for every
   * connection. Returns an unsubscribe function. Each Connection has `onFault` too.
   */
  onDeviceFault(fn: (e: ConnectionFaultEvent) => void): () => void {
    this.faultListeners.add(fn);
    return () => { this.faultListeners.delete(fn); };
  }

  /** Saved connections a resumed guest has not taken back yet (src/guest/resume.ts). */
  private resumable: SavedGuestConnection[] = [];

  /**
   * DEVOPEN device `id` with interface `version`. Throws ENOENT for an id not on this bus.
   * On a resumed guest, a device it had open with that version is not opened again: the
   * saved connection is returned (same handle, its regions given back by `shm()`).
   */
  open(id: number, version = 1, opts?: CallOptions): Connection {
    const i = this.resumable.findIndex((s) => s.deviceId === id && s.version === version);
    if (i >= 0) {
      const s = this.resumable.splice(i, 1)[0]!;
      const c = new Connection(this.client, id, s.type, s.handle, null, version, { regions: s.regions, driver: s.driver });
      this.conns.add(c);
      return c;
    }
    const n = this.client.callSync({ op: OP_DEVOPEN, devId: id, args: [version] }, null, opts);
    if (n < 0) throw openFailure(n, id, this.known.get(id)?.type, version);
    const [handle, directSlot, directDoorbell] = [this.client.rvals[0]!, this.client.rvals[1]!, this.client.rvals[2]!];
    // A device in a backend worker gives this connection its own slot, served there.
    const direct = directSlot !== 0 ? new CallClient(this.bus, {
      slot: directSlot, slotPayload: this.boot.slotPayload, doorbell: directDoorbell,
      ...(this.boot.callTimeoutMs !== undefined ? { callTimeoutMs: this.boot.callTimeoutMs } : {}),
    }, {}, this.turns) : null;
    const c = new Connection(this.client, id, this.known.get(id)?.type ?? 'unknown', handle, direct, version);
    this.conns.add(c);
    return c;
  }

  /** Processes queued events now. Returns how many were handled. */
  pollEvents(): number {
    let n = 0;
    if (this.events.faulted) this.reattachEvents();
    for (;;) {
      const len = this.events.pop(this.scratch);
      if (len < 0) {
        if (len === Status.NOSPACE) { this.events.skip(1); continue; } // a record we cannot read: drop it
        break;
      }
      n++;
      this.dispatch(this.events.tag, this.scratch, len);
    }
    return n;
  }

  /**
   * Our end of the event ring went sticky (a hostile store): once the host re-formatted
   * the ring (an admin bus reset: magic and capacity right, fault word clear), attach a
   * new end. The host follows a reset with a resync, so the device list ends up right.
   */
  private reattachEvents(): void {
    const u32 = this.bus.u32;
    const o = this.boot.events.offset;
    if (Atomics.load(u32, (o + RING_OFF_MAGIC) >> 2) !== RING_MAGIC || u32[(o + RING_OFF_CAPACITY) >> 2] !== this.boot.events.capacity
      || Atomics.load(u32, (o + RING_OFF_FAULT) >> 2) !== 0) return;
    try { this.events = new RingConsumer(this.bus, this.boot.events); } catch { /* not formatted yet: next poll */ }
  }

  /** Starts delivering events from the worker's event loop. */
  startEvents(): void {
    if (this.pumping) return;
    this.pumping = true;
    void this.pump();
  }

  /** Stops the event loop delivery (so the worker can exit). */
  stopEvents(): void {
    this.pumping = false;
    this.eventWaiter.wake(); // so the pump sees it stopped
  }

  /**
   * This connector's state for a save (src/guest/resume.ts): the devices known, every
   * open connection on the member's own slot with its regions and its driver's state,
   * and the saved connections this run did not take back (the host still holds them).
   */
  saveConnector(): SavedGuestConnector {
    return {
      devices: this.devices().map((d) => ({ id: d.id, type: d.type })),
      conns: [...this.conns].filter((c) => c.isOpen && !c.isDirect).map((c): SavedGuestConnection => ({
        deviceId: c.deviceId, type: c.type, handle: c.handle, version: c.version, regions: c.placedRegions(), driver: c.saveDriver(),
      })).concat(this.resumable),
    };
  }

  /** Closes every connection and stops events. */
  close(): void {
    this.turns?.release(); // no more calls from here: nobody need wait for this thread's turn
    this.stopEvents();
    for (const c of this.conns) { try { c.close(); } catch { /* host gone */ } }
    this.conns.clear();
  }

  private async pump(): Promise<void> {
    await serveAsync(this.eventWaiter, {
      drain: () => this.pollEvents(),
      arrived: () => this.events.used() > 0,
      running: () => this.pumping && !this.shutdown,
      sliceMs: 1000,
    });
    this.pumping = false;
  }

  private dispatch(type: number, rec: Uint8Array, len: number): void {
    if (type === EV_DEVADD) {
      const add = decodeDevAdd(rec, len);
      if (!add) return; // malformed: the host never writes one
      const { id, iface: text } = add;
      this.resyncSeen?.add(id);
      const old = this.known.get(id);
      if (old && old.type === text) return; // a resync listing a device we know
      if (old) this.drop(id);
      const dev: GuestDevice = { id, type: text };
      this.known.set(id, dev);
      const drv = this.drivers.get(text);
      if (drv) this.bind(dev, drv);
    } else if (type === EV_DEVDROP) {
      const id = decodeDevDrop(rec, len);
      if (id !== null) this.drop(id);
    } else if (type === EV_RESYNC_BEGIN) {
      this.resyncSeen = new Set();
    } else if (type === EV_RESYNC_END && this.resyncSeen) {
      // Whatever the snapshot did not list left the bus while our events were lost.
      for (const id of [...this.known.keys()]) if (!this.resyncSeen.has(id)) this.drop(id);
      this.resyncSeen = null;
    } else if (type === EV_DEVEVENT) {
      const e: DeviceEvent | null = decodeDevEvent(rec, len);
      if (e) for (const fn of this.eventListeners) fn(e);
    } else if (type === EV_DEVFAULT || type === EV_DEVRESET) {
      const e = decodeDevEvent(rec, len);
      if (!e) return;
      const fault = type === EV_DEVFAULT;
      const st = fault ? connectionStatus(true, e.code, e.arg, 0) : connectionStatus(false, 0, 0, e.arg);
      const ev: ConnectionFaultEvent = { kind: fault ? 'fault' : 'reset', deviceId: e.deviceId, handle: e.handle, ...st };
      for (const c of this.conns) if (c.handle === e.handle && c.deviceId === e.deviceId && c.isOpen) c.deliverFault(ev);
      for (const fn of this.faultListeners) fn(ev);
    } else if (type === EV_SHUTDOWN) {
      this.shutdown = true;
      this.client.dead = true;
    }
  }

  /** Device ids listed by the resync in progress (see EV_RESYNC_BEGIN). */
  private resyncSeen: Set<number> | null = null;

  private drop(id: number): void {
    const dev = this.known.get(id);
    this.known.delete(id);
    const drv = this.bound.get(id);
    this.bound.delete(id);
    if (dev && drv?.remove) void Promise.resolve().then(() => drv.remove!(dev, this)).catch((e: unknown) => { throw driverFailure('remove', dev, e); });
  }

  private bind(dev: GuestDevice, drv: Driver): void {
    this.bound.set(dev.id, drv);
    // Run probe outside the event dispatch so a probe that calls the device does not nest.
    // A throw fails the guest with an error naming the driver call (the host reports it).
    void Promise.resolve().then(() => drv.probe(dev, this)).catch((e: unknown) => { throw driverFailure('probe', dev, e); });
  }
}

/** A driver's probe/remove threw: the error names the call and the device; the original is `details.cause`. */
function driverFailure(call: 'probe' | 'remove', dev: GuestDevice, e: unknown): VbusError {
  const inner = e instanceof Error ? e.message : String(e);
  const code = e instanceof VbusError ? e.code : 'EIO';
  return new VbusError(code, `the '${dev.type}' driver threw in ${call}(device ${dev.id}): ${inner}`, { deviceId: dev.id, type: dev.type, cause: e });
}

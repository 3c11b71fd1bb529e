/**
 * The host end of one bus's connector: the devices linked to the bus, its members
 * (member-registry.ts), the doorbell loop that serves their call slots (slot-server.ts
 * with the verbs of endpoint-verbs.ts), and the ring watchers of host-placed devices
 * (ring-watcher.ts).
 *
 * Data path of a call, in steps (guest side in src/guest/call-client.ts):
 *  1. The guest writes the request words and payload into its call slot, sets
 *     STATE = REQUEST, sets its bit in the bus's pending words and raises the doorbell.
 *  2. The endpoint, parked in Atomics.waitAsync on the doorbell (the host event loop is
 *     never blocked), wakes, takes all pending bits at once and has the slot server
 *     claim, decode and answer each named slot.
 *  3. A valid request goes to the device model, which writes its reply into the slot;
 *     the slot server writes STATUS/RLEN/RVALs, sets STATE = DONE and notifies.
 *
 * Nothing a guest writes is trusted for progress: the doorbell park has a deadline, and
 * at least once a slice (`sweepMs`) the endpoint sweeps every member's slot (a guest may have
 * cleared the pending bits or left the doorbell's PENDING word set), re-verifies the bus
 * header and its control region, and restores them when a guest overwrote them.
 *
 * Events (DEVADD/DEVDROP/DEVEVENT) go the other way on each member's event ring.
 * Unplug answers every call in flight on the device with ENODEV and drops the model's
 * late answer; a member that leaves (or whose worker dies) has its connections closed
 * and its regions returned. Regions a connection placed (rings, buffers, a backend's
 * direct slot) outlive an unplug: they are returned when the guest closes the handle
 * that names them, or leaves.
 *
 * A save of the bus takes this endpoint's tables for its saved guests, and a restore
 * adopts them, so the guests take their connections back (endpoint-saved.ts).
 */
import {
  SLOT_DEFAULT_PAYLOAD, SLOT_HEADER_BYTES, SLOT_OFF_STATE, SLOT_OFF_SEQ, SLOT_IDLE, SLOT_DONE,
  CONN_FUNC_STATUS, CONN_FUNC_RESET, CONN_STATUS_NEEDS_RESET,
} from '../../assembly/layout/callslot.js';
import {
  BUSCTL_MAGIC, BUSCTL_VERSION, BUSCTL_OFF_MAGIC, BUSCTL_OFF_VERSION, BUSCTL_OFF_WORDS, BUSCTL_WORDS, BUSCTL_BYTES, BUSCTL_OFF_PENDING,
} from '../../assembly/layout/busctl.js';
import { EV_DEVADD, EV_DEVDROP, EV_SHUTDOWN, EV_RING_BYTES, EV_IFACE_MAX, EV_DEVFAULT, EV_DEVRESET, CONN_FAULT_NO_QUEUE } from '../../assembly/layout/event.js';
import { SIG_BYTES } from '../../assembly/layout/signal.js';
import { REGION_ALIGN } from '../../assembly/layout/ring.js';
import { ERRNO, vbusError } from '../errors.js';
import type { BusMemory } from '../core/bus-memory.js';
import { ringRegionBytes } from '../core/ring.js';
import { createSignal, destroySignal, restoreSignal, wakeSignal, Waiter } from '../core/signal.js';
import { formatRing } from '../core/ring.js';
import { serveAsync } from '../core/serve-loop.js';
import type { SpinPolicy } from '../core/adaptive-spin.js';
import { mirrorHostBus } from '../transport/message-bus.js';
import { DecodeTables, DT_ENTRIES } from './decode-tables.js';
import type { ConnectorModel, GuestBoot } from './types.js';
import type { DevicePlacement } from './placement.js';
import { HostConnection, type EndpointDevice, type EndpointMember } from './endpoint-member.js';
import { MemberRegistry } from './member-registry.js';
import { SlotServer, Deferred, type Answer, type FaultReporter, type ServedSlot } from './slot-server.js';
import { dispatchVerb, type VerbContext } from './endpoint-verbs.js';
import { freeShm } from './shm-placement.js';
import { watchRing } from './ring-watcher.js';
import { encodeDevAdd, encodeDevDrop, encodeDevEvent, EMPTY_EVENT, ifaceBytes } from './event-records.js';
import { checkRings, connFaultName, connFaultText, deviceFault, type ConnFault } from './conn-fault.js';
import { formatConnRings, replayModel, wakeConnRings } from './conn-reset.js';
import { restoreSlot } from './slot-region.js';
import type { ImagePlan, SavedEndpoint } from './endpoint-tables.js';
import { adoptTables, imagePlan, saveTables, type SavedTablesHost } from './endpoint-saved.js';
import type { GroupMember, ServeGroup } from './serve-group.js';

export { EVENT_BACKLOG_MAX } from './endpoint-member.js';

export interface BusEndpointOptions {
  /** Payload bytes of each member's call slot. Default 4096. */
  slotPayload?: number;
  /** Host-side spin before parking on the doorbell (keep small: it runs on the event loop). */
  spin?: SpinPolicy;
  /** Shared decode tables (one per host); created if absent. */
  tables?: DecodeTables;
  /** Longest doorbell park before the endpoint sweeps every slot anyway, ms. Default 100. */
  sweepMs?: number;
  /** Deadline for a device model's promise, ms (then the guest gets ETIMEDOUT). Default 30 000. */
  callTimeoutMs?: number;
  /** Where device faults go (a model threw, returned nonsense, rejected). Default: one line on stderr each. */
  onDeviceFault?: FaultReporter;
  /** Deadline of a guest's call that names none, ms. Default DEFAULT_CALL_TIMEOUT_MS (30 s). */
  guestCallTimeoutMs?: number;
  /**
   * Serve this bus from a loop shared with other buses (one wake-up serves them all)
   * instead of a loop of its own. `spin` and `sweepMs` are then the group's.
   */
  group?: ServeGroup;
  /** Told when the host finds a connection faulted (it now needs a reset). */
  onConnFault?: (f: ConnFaultReport) => void;
}

/** A faulted connection, as the admin view and `onConnFault` see it (reason from the host's table). */
export interface ConnFaultReport {
  busName: string;
  deviceId: number;
  memberId: number;
  handle: number;
  /** CONN_FAULT_* number, its short name and its sentence. */
  reason: number;
  name: string;
  text: string;
  /** Queue number of the ring found corrupt, or -1. */
  queue: number;
  /** Resets of this connection so far. */
  resets: number;
}

/** What a bus reset did (BusEndpoint.resetBus). */
export interface BusResetReport {
  /** Calls in flight or posted that were answered ECONNRESET. */
  callsEnded: number;
  /** Members whose slot, event ring and signal were re-formatted (each gets a resync). */
  members: number;
  /** Connections found faulted and reset. */
  connections: number;
}

/** Bytes a region of `bytes` takes from the allocator (rounded up to REGION_ALIGN). */
function placed(bytes: number): number { return Math.ceil(bytes / REGION_ALIGN) * REGION_ALIGN; }

/** Bus memory the connector needs for one member: call slot, event ring, event signal. */
export function memberBytes(slotPayload = SLOT_DEFAULT_PAYLOAD): number {
  return placed(SLOT_HEADER_BYTES + slotPayload) + placed(ringRegionBytes(EV_RING_BYTES)) + placed(SIG_BYTES);
}

/** Bus memory the connector needs for the bus itself: control region and doorbell signal. */
export const BUS_CONNECTOR_BYTES = placed(BUSCTL_BYTES) + placed(SIG_BYTES);

let lastTurnKey = 0;
/** A key for one endpoint's call-turn hint: > 0 and unique in this process (until 2^31 endpoints). */
function nextTurnKey(): number {
  lastTurnKey = lastTurnKey >= 0x7fffffff ? 1 : lastTurnKey + 1;
  return lastTurnKey;
}

export class BusEndpoint implements VerbContext {
  readonly memory: BusMemory;
  readonly busName: string;
  readonly slotPayload: number;
  readonly server: SlotServer;
  private readonly tables: DecodeTables;
  private readonly devTab: number;
  private readonly busctl: number;
  private readonly doorbell: number;
  private readonly doorbellWaiter: Waiter;
  private readonly devices = new Map<number, EndpointDevice>();
  private readonly registry: MemberRegistry;
  private readonly sweepMs: number;
  private readonly guestCallTimeoutMs: number | undefined;
  private readonly group: ServeGroup | undefined;
  private readonly groupMember: GroupMember;
  /** The key this bus's guests publish while they hold the call turn (unique in this process). */
  private readonly turnKey = nextTurnKey();
  private nextGen = 1;
  private running = false;
  private stopped = false;
  private loopDone: Promise<void> = Promise.resolve();
  /** Times a sweep found a request the pending bits did not name, and headers it restored. */
  readonly hidden = { requests: 0, headers: 0 };
  /** Connection faults found, connection resets done, bus resets done. */
  readonly faultStats = { found: 0, resets: 0, busResets: 0 };
  private readonly onConnFault: ((f: ConnFaultReport) => void) | undefined;
  private lastFaultCheck = 0;

  constructor(memory: BusMemory, busName: string, opts: BusEndpointOptions = {}) {
    this.memory = memory;
    this.busName = busName;
    this.slotPayload = opts.slotPayload ?? SLOT_DEFAULT_PAYLOAD;
    if (!Number.isInteger(this.slotPayload) || this.slotPayload < 64 || this.slotPayload > 1 << 24 || this.slotPayload % 64 !== 0) {
      throw vbusError('EINVAL', `slotPayload ${this.slotPayload} must be a multiple of 64 between 64 and ${1 << 24}`, { slotPayload: this.slotPayload });
    }
    this.sweepMs = opts.sweepMs ?? 100;
    this.guestCallTimeoutMs = opts.guestCallTimeoutMs;
    this.onConnFault = opts.onConnFault;
    if (memory.transport === 'message') mirrorHostBus(memory); // before any guest joins (src/transport/)
    this.tables = opts.tables ?? new DecodeTables(memory.module);
    const busctl = memory.allocRegion(BUSCTL_BYTES, 'bus control region');
    let doorbell: number;
    try {
      doorbell = createSignal(memory);
    } catch (e) {
      memory.freeRegion(busctl);
      throw e;
    }
    this.busctl = busctl;
    this.doorbell = doorbell;
    memory.u8.fill(0, busctl, busctl + BUSCTL_BYTES);
    this.writeBusctlHeader();
    this.group = opts.group;
    // In a group the group spins once for all its buses; the doorbell waiter only parks.
    this.doorbellWaiter = new Waiter(memory, doorbell, this.group ? { fixed: 0 } : opts.spin ?? { initial: 256, max: 4096 });
    this.groupMember = {
      turnKey: this.turnKey,
      waiter: this.doorbellWaiter,
      drain: () => this.drain(),
      anyPending: () => this.registry.anyPending(),
      sweep: () => this.sweep(),
    };
    this.devTab = this.tables.allocDeviceTable();
    this.server = new SlotServer(memory, this.tables, this.devTab, this.slotPayload, {
      ...(opts.callTimeoutMs !== undefined ? { callTimeoutMs: opts.callTimeoutMs } : {}),
      ...(opts.onDeviceFault ? { onDeviceFault: opts.onDeviceFault } : {}),
    });
    this.registry = new MemberRegistry(memory, busName, this.slotPayload, this.tables, busctl, () => this.devices.values());
  }

  /** Requests served (for stats). */
  get served(): number { return this.server.served; }

  // -------------------------------------------------------------------------------
  // Devices

  /**
   * A device was linked to this bus with id `id`: decode tables, then DEVADD to every
   * member. `placement` says where the model runs when not on the host thread.
   */
  addDevice(id: number, iface: string, model: ConnectorModel, placement?: DevicePlacement): void {
    if (!Number.isInteger(id) || id < 0 || id >= DT_ENTRIES) {
      throw vbusError('ENOSPC', `device id ${id} is outside the ${DT_ENTRIES} ids a bus supports`, { id });
    }
    if (this.devices.has(id)) throw vbusError('EEXIST', `device id ${id} is already in use on bus ${this.busName}`, { id });
    const ifaceUtf8 = ifaceBytes(iface);
    if (ifaceUtf8 === null) throw vbusError('EINVAL', `interface name '${iface}' is longer than ${EV_IFACE_MAX} bytes`, { iface });
    const gen = this.nextGen++;
    placement?.reportFaultsTo((f) => this.server.onDeviceFault(f));
    const dev: EndpointDevice = { id, iface, ifaceBytes: ifaceUtf8, gen, model, placement, conns: new Set() };
    placement?.reportConnFaultsTo((connId) => {
      for (const c of dev.conns) if (c.id === connId && !c.fault && c.open) this.markFault(c, checkRings(this.memory, c.shms) ?? deviceFault());
    });
    this.devices.set(id, dev);
    this.tables.setDevice(this.devTab, id, gen);
    for (const m of this.registry.all()) m.postEvent(EV_DEVADD, encodeDevAdd(id, ifaceUtf8));
  }

  /**
   * The device left the bus: later requests on its handles answer ENODEV (decode sees a
   * stale generation), calls in flight are answered ENODEV now, its connections are
   * closed, and every member gets DEVDROP.
   */
  removeDevice(id: number): void {
    const dev = this.devices.get(id);
    if (!dev) throw vbusError('ENOENT', `no device with id ${id} on bus ${this.busName}`, { id });
    this.tables.setDevice(this.devTab, id, 0);
    this.devices.delete(id);
    for (const m of this.registry.all()) {
      const owner = m.inflight?.owner;
      if (owner instanceof HostConnection && owner.device === dev) this.server.cut(m, -ERRNO.ENODEV);
    }
    for (const conn of [...dev.conns]) this.closeConnection(conn, false);
    for (const m of this.registry.all()) m.postEvent(EV_DEVDROP, encodeDevDrop(id));
  }

  /** VerbContext: the device linked with `id`. */
  device(id: number): EndpointDevice | undefined { return this.devices.get(id); }

  deviceIds(): number[] { return [...this.devices.keys()]; }

  /** Open connections, for the admin view and tests. */
  connectionCount(): number {
    let n = 0;
    for (const d of this.devices.values()) n += d.conns.size;
    return n;
  }

  // -------------------------------------------------------------------------------
  // Members

  /**
   * A member joined: places its call slot, event ring and signal, and queues DEVADD for
   * every device already on the bus (probe at start). Returns what the guest needs.
   */
  addMember(memberId: number): GuestBoot {
    this.verifyHeaders(); // a joining guest checks them: never hand out what a guest overwrote
    const waiting = this.registry.get(memberId);
    let m: EndpointMember;
    if (waiting?.adopted) {
      m = waiting; // restored with its connections: its guest knows the devices (saved connector state)
      m.adopted = false;
    } else {
      m = this.registry.add(memberId);
      for (const d of this.devices.values()) m.postEvent(EV_DEVADD, encodeDevAdd(d.id, d.ifaceBytes));
    }
    const mem = this.memory;
    return {
      memory: mem.memory, module: mem.module, busName: this.busName, memberId,
      busctl: this.busctl, doorbell: this.doorbell, bit: m.bit, slot: m.slot, slotPayload: this.slotPayload,
      events: m.eventRing, eventSignal: m.eventSignal,
      ...(this.guestCallTimeoutMs !== undefined ? { callTimeoutMs: this.guestCallTimeoutMs } : {}),
      turnKey: this.turnKey,
    };
  }

  /** A member left (or its worker died): closes its connections and returns its regions. */
  removeMember(memberId: number): void {
    const m = this.registry.get(memberId);
    if (!m) throw vbusError('ENOENT', `member ${memberId} is not on bus ${this.busName}`, { memberId });
    if (m.inflight) m.inflight.answered = true; // a late model answer has nowhere to go
    for (const conn of m.handles) if (conn) this.closeConnection(conn, true);
    m.postEvent(EV_SHUTDOWN, EMPTY_EVENT);
    this.registry.remove(m);
  }

  memberIds(): number[] { return [...this.registry.members.keys()]; }

  // -------------------------------------------------------------------------------
  // Saved tables (src/snapshot): members and connections kept across a save (endpoint-saved.ts)

  /** See saveTables in endpoint-saved.ts: the tables a save carries for the members `carry` names. */
  saveTables(carry: (memberId: number) => boolean): SavedEndpoint { return saveTables(this.savedHost, carry); }

  /** See imagePlan in endpoint-saved.ts: what of the bus memory a save carries for tables `t`. */
  imagePlan(t: SavedEndpoint): ImagePlan { return imagePlan(this.savedHost, t); }

  /** See adoptTables in endpoint-saved.ts: restores saved tables once the image placed their regions. */
  adoptTables(t: SavedEndpoint, placed: ReadonlyMap<number, number>, what: string): void { adoptTables(this.savedHost, t, placed, what); }

  /** What endpoint-saved.ts uses of this endpoint. */
  private get savedHost(): SavedTablesHost {
    return {
      memory: this.memory, busName: this.busName, slotPayload: this.slotPayload, registry: this.registry, tables: this.tables,
      device: (id) => this.devices.get(id), watch: (c, r, sig) => this.watch(c, r, sig), removeMember: (id) => this.removeMember(id),
      checkConn: (c) => this.checkConn(c),
    };
  }

  /** Events waiting for a member whose event ring is full, and events dropped for it. */
  memberEventStats(memberId: number): { queued: number; dropped: number; resyncs: number } {
    const m = this.registry.get(memberId);
    if (!m) throw vbusError('ENOENT', `member ${memberId} is not on bus ${this.busName}`, { memberId });
    return { queued: m.backlog.length, dropped: m.eventsDropped, resyncs: m.resyncs };
  }

  // -------------------------------------------------------------------------------
  // Serving

  /** Starts serving requests. Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopped = false;
    if (this.group) { this.group.add(this.groupMember); return; }
    this.loopDone = serveAsync(this.doorbellWaiter, {
      drain: () => this.drain(),
      arrived: () => this.registry.anyPending(),
      running: () => !this.stopped,
      sliceMs: this.sweepMs,
      sweep: () => this.sweep(),
    });
  }

  /** Stops serving; resolves when the loop has exited. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.stopped = true;
    if (this.group) await this.group.remove(this.groupMember);
    this.doorbellWaiter.wake(); // so the loop sees `stopped`
    await this.loopDone;
    this.running = false;
  }

  /** Stops, closes every connection, and returns every region this endpoint placed. */
  async release(): Promise<void> {
    await this.stop();
    this.registry.stopFlushing();
    for (const id of this.memberIds()) this.removeMember(id);
    for (const id of [...this.devices.keys()]) this.removeDevice(id);
    this.tables.freeTable(this.devTab);
    destroySignal(this.memory, this.doorbell);
    this.memory.freeRegion(this.busctl);
  }

  /** Serves every slot whose pending bit is set, then flushes event backlogs. Returns the requests served. */
  drain(): number {
    this.drained = 0;
    this.registry.forPending(this.serveMember);
    this.registry.flushEvents();
    if ((++this.drains & 15) === 0) this.maybeCheckFaults(); // a clock read; sweeps check too, at least once a slice
    return this.drained;
  }

  // drain()'s per-request work, made once (not two closures per request).
  private drained = 0;
  private drains = 0;
  private readonly dispatch = (op: number, m: ServedSlot): Answer => dispatchVerb(this, m as EndpointMember, op);
  private readonly serveMember = (m: EndpointMember): void => { if (this.server.serve(m, this.dispatch)) this.drained++; };

  /**
   * Serves what is pending now, synchronously, without trusting the pending bits: every
   * member's slot that holds a request. For callers that drive the endpoint themselves
   * (a worker-less test guest) and for the loop's sweeps. Returns the requests served.
   */
  servePending(): number {
    let n = 0;
    this.registry.forPending(() => {}); // the bits are covered by the full scan below
    for (const m of [...this.registry.all()]) if (this.server.serve(m, (op) => dispatchVerb(this, m, op))) n++;
    this.registry.flushEvents();
    return n;
  }

  /** Once a slice (after a park that timed out, or the serve group's slice): find requests the pending words hid, restore overwritten headers. */
  private sweep(): void {
    this.verifyHeaders();
    this.maybeCheckFaults();
    for (const m of this.registry.all()) if (this.server.holdsRequest(m)) { this.hidden.requests++; break; }
    this.servePending();
  }

  /** Re-verifies the bus header, the control region's header and the doorbell's identity; restores them. */
  private verifyHeaders(): void {
    const mem = this.memory;
    if (mem.restoreHeader()) this.hidden.headers++;
    const u32 = mem.u32;
    const b = this.busctl;
    if (Atomics.load(u32, (b + BUSCTL_OFF_MAGIC) >> 2) !== BUSCTL_MAGIC || u32[(b + BUSCTL_OFF_VERSION) >> 2] !== BUSCTL_VERSION
      || u32[(b + BUSCTL_OFF_WORDS) >> 2] !== BUSCTL_WORDS) {
      this.writeBusctlHeader();
      this.hidden.headers++;
    }
    if (restoreSignal(mem, this.doorbell)) this.hidden.headers++;
    // A backend's doorbell is the host's too: a new guest's open attaches to it.
    for (const dev of this.devices.values()) if (dev.placement && restoreSignal(mem, dev.placement.sharedDoorbell)) this.hidden.headers++;
  }

  private writeBusctlHeader(): void {
    const u32 = this.memory.u32;
    const b = this.busctl;
    u32[(b + BUSCTL_OFF_VERSION) >> 2] = BUSCTL_VERSION;
    u32[(b + BUSCTL_OFF_WORDS) >> 2] = BUSCTL_WORDS;
    Atomics.store(u32, (b + BUSCTL_OFF_MAGIC) >> 2, BUSCTL_MAGIC); // fields before the magic
  }

  // -------------------------------------------------------------------------------
  // Connections

  /** VerbContext: starts the host-thread watcher of one of a connection's rings. */
  watch(conn: HostConnection, region: Parameters<VerbContext['watch']>[1], signal: number): void {
    watchRing(this.memory, conn, region, signal, () => !this.stopped, (e) => {
      this.server.modelErrno(e, { busName: this.busName, deviceId: conn.deviceId, memberId: conn.memberId, hook: 'poll' });
    }, () => this.checkConn(conn));
  }

  // -------------------------------------------------------------------------------
  // Faults and resets (virtio's NEEDS_RESET, per connection; and the whole bus)

  /** Checks every connection at most once per sweep interval (also while the loop never parks). */
  private maybeCheckFaults(): void {
    const now = performance.now();
    if (now - this.lastFaultCheck < this.sweepMs) return;
    this.lastFaultCheck = now;
    for (const d of this.devices.values()) for (const c of d.conns) this.checkConn(c);
  }

  /**
   * Looks for a fault on one connection: its rings against the host's record of them,
   * and (host placement) the model's own verdict. A fault found is recorded in host
   * memory and told to the guest (DEVFAULT) and to `onConnFault`, once per fault.
   */
  checkConn(conn: HostConnection): void {
    if (conn.fault || !conn.open) return;
    const dev = conn.device;
    const f = checkRings(this.memory, conn.shms)
      ?? (dev.placement === undefined && dev.model.faulted?.(conn) ? deviceFault() : null);
    if (f) this.markFault(conn, f);
  }

  private markFault(conn: HostConnection, f: ConnFault): void {
    conn.fault = f;
    this.faultStats.found++;
    conn.member.postEvent(EV_DEVFAULT, encodeDevEvent(conn.deviceId, conn.handle, f.reason, f.queue));
    try { this.onConnFault?.(this.report(conn, f)); } catch { /* a listener cannot break the data path */ }
  }

  private report(conn: HostConnection, f: ConnFault): ConnFaultReport {
    return {
      busName: this.busName, deviceId: conn.deviceId, memberId: conn.memberId, handle: conn.handle,
      reason: f.reason, name: connFaultName(f.reason), text: connFaultText(f.reason), queue: f.queue, resets: conn.resets,
    };
  }

  /** The faulted connections of device `id` on this bus (empty when none needs a reset). */
  deviceFaults(id: number): ConnFaultReport[] {
    const d = this.devices.get(id);
    if (!d) return [];
    const out: ConnFaultReport[] = [];
    for (const c of d.conns) { this.checkConn(c); if (c.fault) out.push(this.report(c, c.fault)); }
    return out;
  }

  /** VerbContext: CONN_FUNC_STATUS and CONN_FUNC_RESET (any other connector function: ENOSYS). */
  connectorCall(conn: HostConnection, func: number): Answer {
    if (func === CONN_FUNC_STATUS) {
      this.checkConn(conn);
      const f = conn.fault;
      return { status: 0, rvals: [f ? CONN_STATUS_NEEDS_RESET : 0, f ? f.reason : 0, f ? f.queue : CONN_FAULT_NO_QUEUE, conn.resets] };
    }
    if (func === CONN_FUNC_RESET) return this.resetConnection(conn);
    return { status: -ERRNO.ENOSYS };
  }

  /**
   * Resets one connection (see conn-reset.ts): where the model runs, rings formatted and
   * the model replayed; then the fault is cleared and the guest told (DEVRESET).
   */
  resetConnection(conn: HostConnection): Answer {
    const dev = conn.device;
    const done = (st: number): Answer => {
      if (st < 0 || !conn.open) return { status: st < 0 ? st : -ERRNO.ENODEV };
      conn.fault = null;
      conn.resets++;
      this.faultStats.resets++;
      wakeConnRings(this.memory, conn.shms);
      conn.member.postEvent(EV_DEVRESET, encodeDevEvent(conn.deviceId, conn.handle, 0, conn.resets));
      return { status: 0, rvals: [0, 0, CONN_FAULT_NO_QUEUE, conn.resets] };
    };
    if (dev.placement) {
      return new Deferred(dev.placement.resetConnection(conn.id).then((st) => done(st) as { status: number }), conn);
    }
    try {
      formatConnRings(this.memory, conn.shms);
      replayModel(dev.model, conn, conn.shms);
    } catch (e) {
      return { status: this.server.modelErrno(e, { busName: this.busName, deviceId: dev.id, memberId: conn.memberId, hook: 'reset' }) };
    }
    return done(0);
  }

  /**
   * Admin reset of the bus's connector regions, without destroying the bus: the bus
   * header, control region and doorbell (and backends' doorbells) are rewritten from the
   * host's own record; every member's call slot gets its identity back (same generation,
   * so the guest keeps it) and a call in flight or posted on it ends ECONNRESET; every
   * event ring and signal is re-formatted and followed by a resync (the guest re-attaches
   * its end when it finds the old one faulted); every connection the host finds faulted
   * is reset (DEVRESET tells its guest). Healthy connections keep their traffic.
   */
  resetBus(): BusResetReport {
    const mem = this.memory;
    mem.restoreHeader();
    this.writeBusctlHeader();
    // Pending words cleared first: every request posted before is answered below, and one
    // posted after sets its bit again (and a sweep finds it whatever the bits say).
    for (let i = 0; i < BUSCTL_WORDS; i++) Atomics.store(mem.u32, ((this.busctl + BUSCTL_OFF_PENDING) >> 2) + i, 0);
    restoreSignal(mem, this.doorbell);
    for (const dev of this.devices.values()) if (dev.placement) restoreSignal(mem, dev.placement.sharedDoorbell);
    const report: BusResetReport = { callsEnded: 0, members: 0, connections: 0 };
    for (const m of [...this.registry.all()]) {
      restoreSlot(mem, m.slot, m.slotGen);
      const stIdx = (m.slot + SLOT_OFF_STATE) >> 2;
      if (m.inflight && !m.inflight.answered) {
        this.server.cut(m, -ERRNO.ECONNRESET);
        report.callsEnded++;
      } else {
        const st = Atomics.load(mem.i32, stIdx);
        if (st !== SLOT_IDLE && st !== SLOT_DONE) {
          // Posted and never served (or a state nobody wrote honestly): answer it, so a guest parked on it wakes.
          this.server.reply(m, Atomics.load(mem.u32, (m.slot + SLOT_OFF_SEQ) >> 2), { status: -ERRNO.ECONNRESET });
          report.callsEnded++;
        }
      }
      formatRing(mem, m.eventRing);
      restoreSignal(mem, m.eventSignal);
      m.reattachEvents(mem);
      m.flush();
      wakeSignal(mem, m.eventSignal);
      report.members++;
    }
    for (const d of this.devices.values()) {
      for (const c of [...d.conns]) {
        this.checkConn(c);
        if (!c.fault) continue;
        const a = this.resetConnection(c);
        if (a instanceof Deferred) void a.promise; // a backend answers later; the guest hears DEVRESET then
        report.connections++;
      }
    }
    this.faultStats.busResets++;
    wakeSignal(mem, this.doorbell); // the loop sweeps now
    return report;
  }

  /**
   * Closes a connection: the model hears close(), watchers stop. With `freeRegions`
   * (the guest closed the handle, or left) its regions are returned and the handle freed;
   * without (unplug) they stay until then: the guest may still touch them.
   */
  closeConnection(conn: HostConnection, freeRegions: boolean): void {
    const dev = conn.device;
    if (conn.open) {
      conn.open = false;
      dev.conns.delete(conn);
      try { dev.model.close?.(conn); } catch { /* a model's close cannot stop the teardown */ }
      for (const wake of conn.watchers) wake();
      conn.watchers.length = 0;
    }
    if (!freeRegions) return;
    const m: EndpointMember = conn.member;
    const shms = conn.shms.splice(0);
    const free = (): void => { for (const r of shms) freeShm(this.memory, r, dev.placement); };
    if (dev.placement) dev.placement.released(conn.id, free); // once the backend let go of the rings
    else free();
    m.handles[conn.handle] = undefined;
    this.tables.clearHandle(m.hTab, conn.handle);
  }
}

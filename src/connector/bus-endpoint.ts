/**
 * The host end of one bus's connector.
 *
 * Data path of a call, in steps (guest side in src/guest/call-client.ts):
 *  1. The guest writes the request words and payload into its call slot, sets
 *     STATE = REQUEST, sets its bit in the bus's pending words and raises the doorbell.
 *  2. The endpoint, parked in Atomics.waitAsync on the doorbell (the host event loop is
 *     never blocked), wakes, takes all pending bits at once and claims each slot
 *     (REQUEST -> BUSY with a compare-exchange, so a cancelled request is not served).
 *  3. It copies the request words out once and the core decodes them against the
 *     host-private tables (member -> bus -> device id -> handle), answering ENOENT /
 *     ENODEV / EINVAL on its own.
 *  4. A valid request goes to the device model, which writes its reply into the slot.
 *  5. The endpoint writes STATUS/RLEN/RVALs, sets STATE = DONE and notifies the guest.
 *
 * Events (DEVADD/DEVDROP/DEVEVENT) go the other way on each member's event ring.
 * Unplug answers every call in flight on the device with ENODEV and drops the model's
 * late answer; a member that leaves (or whose worker dies) has its connections closed
 * and its regions returned.
 */
import {
  SLOT_MAGIC, SLOT_VERSION, SLOT_OFF_MAGIC, SLOT_OFF_VERSION, SLOT_OFF_STATE, SLOT_OFF_SEQ,
  SLOT_OFF_RSEQ, SLOT_OFF_STATUS, SLOT_OFF_RLEN, SLOT_OFF_RVAL0, SLOT_HEADER_BYTES,
  SLOT_DEFAULT_PAYLOAD, SLOT_REQUEST, SLOT_BUSY, SLOT_DONE,
  OP_DEVOPEN, OP_DEVCLOSE, OP_DEVCALL, OP_DEVSHM, OP_SHMSIGNAL,
  SHM_RING_TO_DEVICE, SHM_RING_TO_GUEST, SHM_BUFFER,
} from '../../assembly/layout/callslot.js';
import {
  BUSCTL_MAGIC, BUSCTL_VERSION, BUSCTL_OFF_MAGIC, BUSCTL_OFF_VERSION, BUSCTL_OFF_WORDS,
  BUSCTL_OFF_PENDING, BUSCTL_WORDS, BUSCTL_MAX_MEMBERS, BUSCTL_BYTES,
} from '../../assembly/layout/busctl.js';
import { EV_DEVADD, EV_DEVDROP, EV_SHUTDOWN, EV_RING_BYTES, EV_IFACE_MAX } from '../../assembly/layout/event.js';
import { SIG_OFF_PENDING } from '../../assembly/layout/signal.js';
import { ERRNO, VbusError, vbusError } from '../errors.js';
import { BusMemory } from '../core/bus-memory.js';
import { createRing, destroyRing, ringRegionBytes } from '../core/ring.js';
import { createSignal, destroySignal, Waiter } from '../core/signal.js';
import type { SpinPolicy } from '../core/adaptive-spin.js';
import { DecodeTables, DT_ENTRIES, HT_ENTRIES, F_DEVID, F_HANDLE, F_FUNC, F_LEN, F_ARG0, F_ARG1, F_ARG2 } from './decode-tables.js';
import type { ConnectorModel, GuestBoot, ShmRegion } from './types.js';
import { macrotask } from './macrotask.js';
import { mirrorHostBus } from '../transport/message-bus.js';
import { EndpointMember, HostConnection, type EndpointDevice, type InFlight } from './endpoint-member.js';

export { EVENT_BACKLOG_MAX } from './endpoint-member.js';
import { guestIndex, guestIndexWord } from './ring-progress.js';

export interface BusEndpointOptions {
  /** Payload bytes of each member's call slot. Default 4096. */
  slotPayload?: number;
  /** Host-side spin before parking on the doorbell (keep small: it runs on the event loop). */
  spin?: SpinPolicy;
  /** Shared decode tables (one per host); created if absent. */
  tables?: DecodeTables;
}

/** Bus memory the connector needs for one member (slot, event ring, signal). */
export function memberBytes(slotPayload = SLOT_DEFAULT_PAYLOAD): number {
  return SLOT_HEADER_BYTES + slotPayload + ringRegionBytes(EV_RING_BYTES) + 128 + 3 * 64;
}

/** Bus memory the connector needs for the bus itself (control region and doorbell). */
export const BUS_CONNECTOR_BYTES = BUSCTL_BYTES + 128 + 64;

export class BusEndpoint {
  readonly memory: BusMemory;
  readonly busName: string;
  readonly slotPayload: number;
  private readonly tables: DecodeTables;
  private readonly devTab: number;
  private readonly busctl: number;
  private readonly doorbell: number;
  private readonly doorbellWaiter: Waiter;
  private readonly devices = new Map<number, EndpointDevice>();
  private readonly members = new Map<number, EndpointMember>();
  private readonly byBit: (EndpointMember | undefined)[] = new Array(BUSCTL_MAX_MEMBERS);
  private nextGen = 1;
  private running = false;
  private stopped = false;
  private loopDone: Promise<void> = Promise.resolve();
  /** Requests served (for stats). */
  served = 0;

  constructor(memory: BusMemory, busName: string, opts: BusEndpointOptions = {}) {
    this.memory = memory;
    this.busName = busName;
    this.slotPayload = opts.slotPayload ?? SLOT_DEFAULT_PAYLOAD;
    if (!Number.isInteger(this.slotPayload) || this.slotPayload < 64 || this.slotPayload > 1 << 24 || this.slotPayload % 64 !== 0) {
      throw vbusError('EINVAL', `slotPayload ${this.slotPayload} must be a multiple of 64 between 64 and ${1 << 24}`, { slotPayload: this.slotPayload });
    }
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
    const u32 = memory.u32;
    memory.u8.fill(0, busctl, busctl + BUSCTL_BYTES);
    u32[(busctl + BUSCTL_OFF_VERSION) >> 2] = BUSCTL_VERSION;
    u32[(busctl + BUSCTL_OFF_WORDS) >> 2] = BUSCTL_WORDS;
    Atomics.store(u32, (busctl + BUSCTL_OFF_MAGIC) >> 2, BUSCTL_MAGIC); // fields before the magic
    this.doorbellWaiter = new Waiter(memory, doorbell, opts.spin ?? { initial: 256, max: 4096 });
    this.devTab = this.tables.allocDeviceTable();
  }

  // -------------------------------------------------------------------------------
  // Devices

  /** A device was linked to this bus with id `id`: decode tables, then DEVADD to every member. */
  addDevice(id: number, iface: string, model: ConnectorModel): void {
    if (!Number.isInteger(id) || id < 0 || id >= DT_ENTRIES) {
      throw vbusError('ENOSPC', `device id ${id} is outside the ${DT_ENTRIES} ids a bus supports`, { id });
    }
    if (this.devices.has(id)) throw vbusError('EEXIST', `device id ${id} is already in use on bus ${this.busName}`, { id });
    if (new TextEncoder().encode(iface).length > EV_IFACE_MAX) {
      throw vbusError('EINVAL', `interface name '${iface}' is longer than ${EV_IFACE_MAX} bytes`, { iface });
    }
    const gen = this.nextGen++;
    const dev: EndpointDevice = { id, iface, gen, model, conns: new Set() };
    this.devices.set(id, dev);
    this.tables.setDevice(this.devTab, id, gen);
    for (const m of this.members.values()) m.postEvent(EV_DEVADD, [id], iface);
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
    for (const m of this.members.values()) {
      const f = m.inflight;
      if (f && !f.answered && f.conn.device === dev) {
        f.answered = true;
        this.reply(m, f.seq, -ERRNO.ENODEV, 0);
      }
    }
    for (const conn of [...dev.conns]) this.closeConnection(conn, false);
    for (const m of this.members.values()) m.postEvent(EV_DEVDROP, [id]);
  }

  // -------------------------------------------------------------------------------
  // Members

  /**
   * A member joined: places its call slot, event ring and signal, and queues DEVADD for
   * every device already on the bus (probe at start). Returns what the guest needs.
   */
  addMember(memberId: number): GuestBoot {
    if (this.members.has(memberId)) throw vbusError('EEXIST', `member ${memberId} already joined bus ${this.busName}`, { memberId });
    let bit = -1;
    for (let i = 0; i < BUSCTL_MAX_MEMBERS; i++) if (!this.byBit[i]) { bit = i; break; }
    if (bit < 0) throw vbusError('ENOSPC', `bus ${this.busName} already has ${BUSCTL_MAX_MEMBERS} members`, { memberId });
    const mem = this.memory;
    const placed: Array<() => void> = [];
    try {
      const slot = mem.allocRegion(SLOT_HEADER_BYTES + this.slotPayload, 'call slot');
      placed.push(() => mem.freeRegion(slot));
      const events = createRing(mem, EV_RING_BYTES);
      placed.push(() => destroyRing(mem, events));
      const eventSignal = createSignal(mem);
      placed.push(() => destroySignal(mem, eventSignal));
      const hTab = this.tables.allocHandleTable();
      placed.push(() => this.tables.freeTable(hTab));

      mem.u8.fill(0, slot, slot + SLOT_HEADER_BYTES);
      mem.u32[(slot + SLOT_OFF_VERSION) >> 2] = SLOT_VERSION;
      Atomics.store(mem.u32, (slot + SLOT_OFF_MAGIC) >> 2, SLOT_MAGIC); // fields before the magic
      const payloadView = mem.u8.subarray(slot + SLOT_HEADER_BYTES, slot + SLOT_HEADER_BYTES + this.slotPayload);
      const m = new EndpointMember(memberId, bit, slot, hTab, events, eventSignal, payloadView, mem);
      m.onBacklog = () => this.scheduleFlush();
      m.snapshot = () => [...this.devices.values()].sort((a, b) => a.id - b.id).map((d) => ({ id: d.id, iface: d.iface }));
      this.members.set(memberId, m);
      this.byBit[bit] = m;
      for (const d of this.devices.values()) m.postEvent(EV_DEVADD, [d.id], d.iface);
      return {
        memory: mem.memory, module: mem.module, busName: this.busName, memberId,
        busctl: this.busctl, doorbell: this.doorbell, bit, slot, slotPayload: this.slotPayload,
        events, eventSignal,
      };
    } catch (e) {
      for (const undo of placed.reverse()) undo();
      throw e;
    }
  }

  /** A member left (or its worker died): closes its connections and returns its regions. */
  removeMember(memberId: number): void {
    const m = this.members.get(memberId);
    if (!m) throw vbusError('ENOENT', `member ${memberId} is not on bus ${this.busName}`, { memberId });
    if (m.inflight) m.inflight.answered = true; // a late model answer has nowhere to go
    for (const conn of m.handles) if (conn) this.closeConnection(conn, true);
    m.postEvent(EV_SHUTDOWN, []);
    this.members.delete(memberId);
    this.byBit[m.bit] = undefined;
    const mem = this.memory;
    // Wake anything parked on the slot (a sibling thread of a dead guest) before freeing.
    Atomics.store(mem.i32, (m.slot + SLOT_OFF_STATE) >> 2, SLOT_DONE);
    Atomics.notify(mem.i32, (m.slot + SLOT_OFF_STATE) >> 2);
    mem.u32[(m.slot + SLOT_OFF_MAGIC) >> 2] = 0;
    mem.freeRegion(m.slot);
    destroyRing(mem, m.eventRing);
    destroySignal(mem, m.eventSignal);
    this.tables.freeTable(m.hTab);
  }

  private flushTimer: ReturnType<typeof setTimeout> | null = null;

  /**
   * Retries queued events every few milliseconds while any member has a backlog: a guest
   * drains its event ring without signalling the host, so the host polls until it fits.
   */
  private scheduleFlush(): void {
    if (this.flushTimer !== null) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      let left = false;
      for (const m of this.members.values()) if (m.backlog.length && !m.flush()) left = true;
      if (left) this.scheduleFlush();
    }, 2);
  }

  memberIds(): number[] { return [...this.members.keys()]; }

  /** Events waiting for a member whose event ring is full, and events dropped for it. */
  memberEventStats(memberId: number): { queued: number; dropped: number; resyncs: number } {
    const m = this.members.get(memberId);
    if (!m) throw vbusError('ENOENT', `member ${memberId} is not on bus ${this.busName}`, { memberId });
    return { queued: m.backlog.length, dropped: m.eventsDropped, resyncs: m.resyncs };
  }
  deviceIds(): number[] { return [...this.devices.keys()]; }

  /** Open connections, for the admin view and tests. */
  connectionCount(): number {
    let n = 0;
    for (const d of this.devices.values()) n += d.conns.size;
    return n;
  }

  // -------------------------------------------------------------------------------
  // The doorbell loop

  /** Starts serving requests. Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopped = false;
    this.loopDone = this.loop();
  }

  /** Stops serving; resolves when the loop has exited. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.stopped = true;
    const i32 = this.memory.i32;
    const idx = (this.doorbell + SIG_OFF_PENDING) >> 2;
    Atomics.store(i32, idx, 1); // wake the loop so it sees `stopped`
    Atomics.notify(i32, idx);
    await this.loopDone;
    this.running = false;
  }

  /** Stops, closes every connection, and returns every region this endpoint placed. */
  async release(): Promise<void> {
    await this.stop();
    if (this.flushTimer !== null) { clearTimeout(this.flushTimer); this.flushTimer = null; }
    for (const id of [...this.members.keys()]) this.removeMember(id);
    for (const id of [...this.devices.keys()]) this.removeDevice(id);
    this.tables.freeTable(this.devTab);
    destroySignal(this.memory, this.doorbell);
    this.memory.freeRegion(this.busctl);
  }

  private async loop(): Promise<void> {
    const w = this.doorbellWaiter;
    let busyRounds = 0;
    while (!this.stopped) {
      w.disable(); // step a: take the wake-up, then drain
      this.drain();
      w.enable(); // step b
      if (this.anyPending()) continue; // step c: re-check
      if (this.stopped) break;
      const r = w.waitAsync();
      // A guest that keeps the doorbell raised would make waitAsync resolve at once,
      // forever; give the event loop a full turn every few rounds so timers and I/O
      // (and other buses) still run.
      if (++busyRounds >= 32) { busyRounds = 0; await macrotask(); }
      await r;
    }
  }

  private anyPending(): boolean {
    const u32 = this.memory.u32;
    const base = (this.busctl + BUSCTL_OFF_PENDING) >> 2;
    for (let i = 0; i < BUSCTL_WORDS; i++) if (Atomics.load(u32, base + i) !== 0) return true;
    return false;
  }

  /** Serves every slot whose bit is set. */
  drain(): void {
    const i32 = this.memory.i32;
    const base = (this.busctl + BUSCTL_OFF_PENDING) >> 2;
    for (let w = 0; w < BUSCTL_WORDS; w++) {
      let bits = Atomics.exchange(i32, base + w, 0) >>> 0; // take the requests posted so far (pairs with the guest's Atomics.or after REQUEST)
      while (bits !== 0) {
        const b = 31 - Math.clz32(bits);
        bits &= ~(1 << b);
        const m = this.byBit[(w << 5) + b];
        if (m) this.serve(m);
      }
      for (const m of this.members.values()) if (m.backlog.length) m.flush();
    }
  }

  private serve(m: EndpointMember): void {
    const mem = this.memory;
    const stateIdx = (m.slot + SLOT_OFF_STATE) >> 2;
    // Claim: only a slot that holds a request. A cancelled or forged one is left alone.
    if (Atomics.compareExchange(mem.i32, stateIdx, SLOT_REQUEST, SLOT_BUSY) !== SLOT_REQUEST) return; // after this, the guest cannot cancel
    const seq = Atomics.load(mem.u32, (m.slot + SLOT_OFF_SEQ) >> 2); // read once
    this.served++;
    const op = this.tables.decode(mem, m.slot, this.devTab, m.hTab, this.slotPayload);
    if (op < 0) { this.reply(m, seq, op, 0); return; }
    const t = this.tables;
    try {
      switch (op) {
        case OP_DEVOPEN: return this.devOpen(m, seq, t.field(F_DEVID), t.field(F_ARG0));
        case OP_DEVCLOSE: return this.devClose(m, seq, t.field(F_HANDLE));
        case OP_DEVCALL: return this.devCall(m, seq, t.field(F_HANDLE), t.field(F_FUNC), t.field(F_LEN));
        case OP_DEVSHM: return this.devShm(m, seq, t.field(F_HANDLE), t.field(F_ARG0), t.field(F_ARG1), t.field(F_ARG2));
        case OP_SHMSIGNAL: return this.shmSignal(m, seq, t.field(F_HANDLE), t.field(F_ARG0));
        default: return this.reply(m, seq, -ERRNO.EINVAL, 0);
      }
    } catch (e) {
      // A device model threw: fail this request (and only this request).
      if (m.inflight === null || m.inflight.seq !== seq) this.reply(m, seq, errnoOf(e), 0);
    }
  }

  private devOpen(m: EndpointMember, seq: number, devId: number, version: number): void {
    const dev = this.devices.get(devId);
    if (!dev) return this.reply(m, seq, -ERRNO.ENOENT, 0);
    let h = 0;
    for (let i = 1; i < HT_ENTRIES; i++) if (!m.handles[i]) { h = i; break; }
    if (h === 0) return this.reply(m, seq, -ERRNO.ENOSPC, 0);
    const conn = new HostConnection(this, m, h, dev, version);
    dev.model.open?.(conn); // may throw: nothing was recorded yet
    m.handles[h] = conn;
    dev.conns.add(conn);
    this.tables.setHandle(m.hTab, h, devId, dev.gen);
    const direct = dev.model.direct?.get(conn.id);
    this.reply(m, seq, 0, 0, direct ? [h, direct.slot, direct.doorbell] : [h, 0, 0]);
  }

  private devClose(m: EndpointMember, seq: number, h: number): void {
    const conn = m.handles[h];
    if (!conn) return this.reply(m, seq, -ERRNO.ENOENT, 0);
    this.closeConnection(conn, true);
    this.reply(m, seq, 0, 0);
  }

  private devCall(m: EndpointMember, seq: number, h: number, func: number, len: number): void {
    const conn = m.handles[h];
    if (!conn || !conn.open) return this.reply(m, seq, -ERRNO.ENOENT, 0);
    const model = conn.device.model;
    if (!model.call) return this.reply(m, seq, -ERRNO.ENOSYS, 0);
    const payload = m.payloadView.subarray(0, len);
    const r = model.call(conn, func, payload, m.payloadView);
    if (typeof r === 'number') return this.replyCall(m, seq, r);
    const f: InFlight = { seq, conn, answered: false };
    m.inflight = f;
    r.then(
      (n) => { if (!f.answered) { f.answered = true; m.inflight = null; this.replyCall(m, seq, n); } },
      (e) => { if (!f.answered) { f.answered = true; m.inflight = null; this.reply(m, seq, errnoOf(e), 0); } },
    );
  }

  private replyCall(m: EndpointMember, seq: number, n: number): void {
    if (!Number.isInteger(n) || n > this.slotPayload) return this.reply(m, seq, -ERRNO.EPROTO, 0);
    if (n < 0) return this.reply(m, seq, n, 0);
    this.reply(m, seq, 0, n);
  }

  private devShm(m: EndpointMember, seq: number, h: number, queue: number, bytes: number, kind: number): void {
    const conn = m.handles[h];
    if (!conn || !conn.open) return this.reply(m, seq, -ERRNO.ENOENT, 0);
    const mem = this.memory;
    const placed: Array<() => void> = [];
    try {
      let offset: number, dataSignal = 0, spaceSignal = 0;
      if (kind === SHM_BUFFER) {
        offset = mem.allocRegion(bytes, 'shared buffer');
        placed.push(() => mem.freeRegion(offset));
        mem.u8.fill(0, offset, offset + bytes);
      } else {
        const ring = createRing(mem, bytes);
        offset = ring.offset;
        placed.push(() => destroyRing(mem, ring));
        // A backend device waits on one doorbell: its side of every ring signals that.
        const shared = conn.device.model.sharedDoorbell?.();
        const deviceWaits = kind === SHM_RING_TO_DEVICE ? 'data' : 'space';
        if (shared !== undefined && deviceWaits === 'data') dataSignal = shared;
        else { const ds = createSignal(mem); dataSignal = ds; placed.push(() => destroySignal(mem, ds)); }
        if (shared !== undefined && deviceWaits === 'space') spaceSignal = shared;
        else { const ss = createSignal(mem); spaceSignal = ss; placed.push(() => destroySignal(mem, ss)); }
      }
      const region: ShmRegion = { id: conn.shms.length, queue, kind, offset, bytes, dataSignal, spaceSignal };
      conn.shms.push(region);
      try {
        conn.device.model.shm?.(conn, region); // may refuse by throwing: undo below
      } catch (e) {
        conn.shms.pop();
        throw e;
      }
      if (conn.device.model.sharedDoorbell === undefined) {
        // Rings only: a buffer has no signals (they are 0) and nothing to watch.
        if (kind === SHM_RING_TO_DEVICE) this.watch(conn, region, region.dataSignal);
        else if (kind === SHM_RING_TO_GUEST) this.watch(conn, region, region.spaceSignal);
      }
      this.tables.setShmCount(m.hTab, h, conn.shms.length);
      this.reply(m, seq, 0, 0, [offset, dataSignal, spaceSignal, region.id]);
    } catch (e) {
      for (const undo of placed.reverse()) undo();
      if (e instanceof VbusError && e.code === 'ENOSPC') return this.reply(m, seq, -ERRNO.ENOSPC, 0);
      throw e;
    }
  }

  /**
   * Host-thread placement: waits (Atomics.waitAsync) on one of a connection's ring
   * signals and calls the model's poll() when it fires, with the disable / drain /
   * enable / re-check protocol of assembly/signal.ts. Ends when the connection closes.
   */
  private watch(conn: HostConnection, region: ShmRegion, signal: number): void {
    const model = conn.device.model;
    if (!model.poll) return;
    const w = new Waiter(this.memory, signal, { initial: 0, max: 2048 });
    const word = guestIndexWord(region);
    const run = async (): Promise<void> => {
      let rounds = 0;
      while (conn.open && !this.stopped) {
        w.disable(); // step a
        const before = guestIndex(this.memory, word);
        try { model.poll!(conn); } catch { /* a throwing model only stops its own progress */ }
        w.enable(); // step b
        if (guestIndex(this.memory, word) !== before) continue; // step c: the guest moved while we were not listening
        if (++rounds >= 32) { rounds = 0; await macrotask(); } // let other work run
        const r = await w.waitAsync(250);
        if (r === 'timed-out' && !conn.open) break;
      }
    };
    void run();
    conn.watchers.push(() => {
      const i32 = this.memory.i32;
      const idx = (signal + SIG_OFF_PENDING) >> 2;
      Atomics.store(i32, idx, 1); // wake the watcher so it sees the connection closed
      Atomics.notify(i32, idx);
    });
  }

  private shmSignal(m: EndpointMember, seq: number, h: number, shmId: number): void {
    const conn = m.handles[h];
    const region = conn?.shms[shmId];
    if (!conn || !region) return this.reply(m, seq, -ERRNO.EINVAL, 0);
    conn.device.model.signal?.(conn, region);
    conn.device.model.poll?.(conn);
    this.reply(m, seq, 0, 0);
  }

  private closeConnection(conn: HostConnection, freeRegions: boolean): void {
    if (conn.open) {
      conn.open = false;
      conn.device.conns.delete(conn);
      try { conn.device.model.close?.(conn); } catch { /* a model's close cannot stop the teardown */ }
      for (const wake of conn.watchers) wake();
      conn.watchers.length = 0;
    }
    if (!freeRegions) return; // unplug: the guest may still touch them until it closes the handle
    const m = conn.member;
    for (const r of conn.shms) this.freeShm(r, conn.device.model);
    conn.shms.length = 0;
    m.handles[conn.handle] = undefined;
    this.tables.clearHandle(m.hTab, conn.handle);
  }

  private freeShm(r: ShmRegion, model: ConnectorModel): void {
    const mem = this.memory;
    if (r.kind === SHM_BUFFER) { mem.freeRegion(r.offset); return; }
    if (r.kind === SHM_RING_TO_DEVICE || r.kind === SHM_RING_TO_GUEST) {
      const shared = model.sharedDoorbell?.(); // a backend's doorbell is not the ring's to free
      destroyRing(mem, { offset: r.offset, capacity: r.bytes });
      if (r.dataSignal !== shared) destroySignal(mem, r.dataSignal);
      if (r.spaceSignal !== shared) destroySignal(mem, r.spaceSignal);
    }
  }

  /** Writes the reply and hands the slot back (STATE = DONE), waking the guest. */
  private reply(m: EndpointMember, seq: number, status: number, rlen: number, rvals?: number[]): void {
    if (!this.members.has(m.memberId)) return;
    const mem = this.memory;
    const s = m.slot;
    if (m.inflight && m.inflight.seq === seq) m.inflight = null;
    mem.u32[(s + SLOT_OFF_RSEQ) >> 2] = seq;
    mem.i32[(s + SLOT_OFF_STATUS) >> 2] = status;
    mem.u32[(s + SLOT_OFF_RLEN) >> 2] = rlen;
    if (rvals) for (let i = 0; i < rvals.length; i++) mem.u32[((s + SLOT_OFF_RVAL0) >> 2) + i] = rvals[i]!;
    const idx = (s + SLOT_OFF_STATE) >> 2;
    Atomics.store(mem.i32, idx, SLOT_DONE); // reply fields and payload before DONE
    Atomics.notify(mem.i32, idx, 1);
  }
}

/** A negative errno for anything a model threw. */
function errnoOf(e: unknown): number {
  if (e instanceof VbusError) return -e.errno;
  return -ERRNO.EIO;
}


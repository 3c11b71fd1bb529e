/**
 * One backend device as a member of a pool thread's serve group (serve-group.ts, the
 * same loop the host runs for its buses): its doorbell, its direct call slots, its rings.
 * The group runs the shm-signal cycle over every device of the thread with one wait;
 * this class says what "drain" and "anything pending" mean for one device: serve every
 * direct slot that holds a request (with the slot server the host endpoint uses), let
 * the model poll its rings, and re-check slots and rings after enabling notification.
 *
 * Isolation: a device's model runs inside guards here, so a model that throws (in a
 * call, a poll, an open) costs its own device an EIO or its progress, reported as that
 * device's fault, and never stops the loop that serves the other devices of the thread.
 */
import { SLOT_HEADER_BYTES, OP_DEVCALL, OP_SHMSIGNAL, SHM_BUFFER, CALL_FUNC, CALL_LEN } from '../../../assembly/layout/callslot.js';
import { ERRNO, VbusError } from '../../errors.js';
import type { BusMemory } from '../../core/bus-memory.js';
import { Waiter } from '../../core/signal.js';
import { PrefixView } from '../../core/prefix-view.js';
import { DecodeTables, DT_ENTRIES } from '../decode-tables.js';
import { SlotServer, REPLY_OK, isThenable, type Answer, type InFlight, type ServedSlot, type DeviceFault, type FaultContext } from '../slot-server.js';
import type { ConnectorModel, DeviceConnection, ShmRegion } from '../types.js';
import type { GroupMember } from '../serve-group.js';
import type { BackendControl, BackendNotice, BackendReport } from './protocol.js';
import { guestIndex, guestIndexWord } from '../ring-progress.js';
import { formatConnRings, replayModel } from '../conn-reset.js';

class BackendConnection implements DeviceConnection, ServedSlot {
  readonly shms: ShmRegion[] = [];
  open = true;
  readonly payloadView: Uint8Array;
  /** The request's bytes as the model sees them (a kept view, src/core/prefix-view.ts). */
  readonly request: PrefixView;
  inflight: InFlight | null = null; // a backend answers synchronously
  readonly live = true;
  /** The host was told the model stopped this connection (until a reset). */
  faultTold = false;
  constructor(
    readonly id: number,
    readonly memory: BusMemory,
    readonly busName: string,
    readonly memberId: number,
    readonly deviceId: number,
    readonly version: number,
    readonly handle: number,
    readonly slot: number,
    readonly hTab: number,
    payloadMax: number,
  ) {
    this.payloadView = memory.u8.subarray(slot + SLOT_HEADER_BYTES, slot + SLOT_HEADER_BYTES + payloadMax);
    this.request = new PrefixView(this.payloadView);
  }
  postEvent(): boolean { return false; } // events go through the host; backends answer calls and rings
}

/** Longest park of a pool thread before it sweeps every device anyway (the doorbell words are guest-writable). */
export const BACKEND_SLICE_MS = 100;

export type BackendModel = ConnectorModel & { attrChanged?(name: string, value: string): void };

export class BackendMember implements GroupMember {
  /** The device's doorbell; it never spins on its own (the group spins once for the thread). */
  readonly waiter: Waiter;
  private readonly conns = new Map<number, BackendConnection>();
  private readonly tables: DecodeTables;
  private readonly server: SlotServer;
  private moved: number[] = [];
  private lastWork = 0;
  private polled = 0;
  /** The `seq` of the last control message applied (PoolCommand 'ctl'). */
  private appliedSeq = 0;
  /** The last drain stopped at a request because control messages are in flight. */
  private held = false;

  constructor(
    private readonly bus: BusMemory,
    private readonly busName: string,
    private readonly deviceId: number,
    doorbell: number,
    private readonly model: BackendModel,
    slotPayload: number,
    private readonly notify: (n: BackendNotice) => void,
    /** The host's count of control messages posted to this device (PoolCommand 'add'); null: not counted. */
    private readonly posted: Int32Array | null = null,
  ) {
    this.waiter = new Waiter(bus, doorbell, { fixed: 0 });
    this.tables = new DecodeTables(bus.module);
    const devTab = this.tables.allocDeviceTable();
    // The backend only ever sees its own device: id -> generation 1.
    if (deviceId < DT_ENTRIES) this.tables.setDevice(devTab, deviceId, 1);
    this.server = new SlotServer(bus, this.tables, devTab, slotPayload, {
      // Reported by the host (which logs it or hands it to its listener); the error itself stays here.
      onDeviceFault: (f) => { const { error: _e, ...rest } = f; this.notify({ t: 'fault', fault: rest }); },
    });
  }

  // ----- GroupMember

  drain(): number {
    let work = 0;
    this.held = false;
    this.moved = [];
    try {
      work = this.serveSlots();
      if (!this.held) {
        this.moved = this.snapshotRings();
        // After the snapshot's loads: ring entries published up to it wait for messages posted before them.
        if (this.controlsInFlight()) this.held = true;
        else work += this.pollModel();
      }
    } catch (e) {
      // Nothing of the model escapes its guards; this is the loop's own failure on this
      // device (e.g. a region a hostile guest made unreadable): only this device pays.
      this.fault('serve', e);
    }
    this.lastWork = work;
    return work;
  }

  /** Step c: served something (there may be more), a slot posted, a ring moved. */
  anyPending(): boolean {
    // Held: the device waits for a control message, whose arrival wakes its doorbell
    // (pool-thread.ts, apply); until then the group parks instead of spinning on it, and
    // the thread's event loop (where the message comes) runs.
    if (this.held) return false;
    return this.lastWork > 0 || this.anyRequest() || this.ringsMoved(this.moved);
  }

  /** The control message with this sequence number was applied (pool-thread.ts). */
  applied(seq: number): void { this.appliedSeq = seq | 0; }

  /**
   * Whether the host posted control messages this thread has not applied yet. Checked
   * after a request was seen (the slot's STATE load, a ring snapshot's index loads) and
   * before it is served: a held request stays where it is and is served in the round that
   * the message's arrival starts.
   *
   * Why that is enough (every step seq-cst or message passing, so happens-before is
   * transitive): the host's Atomics.add on `posted` comes before its postMessage to this
   * thread and, in program order, before whatever tells the guest to go on (a reply, a
   * message, the admin's write returning). That precedes the guest's request, which it
   * publishes with an atomic store to its slot (or ring index) in bus memory. This
   * thread's atomic load that observed the request synchronizes with that store, and the
   * load of `posted` below comes after it in program order, so the load sees the add (or a
   * later one): a request made after a post finds the count ahead of `appliedSeq` until
   * that message was applied here. (Messages arrive in the order they were posted, so
   * `appliedSeq` equal to the count means all of them were applied.) A request that raced
   * the post may be served either side of it, as it could on the host.
   */
  private controlsInFlight(): boolean {
    return this.posted !== null && Atomics.load(this.posted, 0) !== this.appliedSeq;
  }

  sweep(): void { /* drain already looks at every slot and ring of the device */ }

  // ----- control (from the host, between rounds)

  control(m: BackendControl): void {
    switch (m.t) {
      case 'open': {
        const hTab = this.tables.allocHandleTable();
        this.tables.setHandle(hTab, m.handle, this.deviceId, 1);
        const c = new BackendConnection(m.connId, this.bus, this.busName, m.memberId, this.deviceId, m.version, m.handle, m.slot, hTab, this.server.payloadMax);
        this.conns.set(m.connId, c);
        try { this.model.open?.(c); } catch (e) { c.open = false; this.fault('open', e, c.memberId); }
        break;
      }
      case 'close': {
        const c = this.conns.get(m.connId);
        if (c) this.closeConn(c);
        this.notify({ t: 'closed', connId: m.connId }); // the host may now reuse the slot
        break;
      }
      case 'shm': {
        const c = this.conns.get(m.connId);
        if (c) { c.shms.push(m.region); try { this.model.shm?.(c, m.region); } catch { /* refused regions stay unused */ } }
        break;
      }
      case 'attr': try { this.model.attrChanged?.(m.name, m.value); } catch (e) { this.fault('attr', e); } break;
      case 'reset': this.notify({ t: 'reset-done', connId: m.connId, req: m.req, status: this.reset(m.connId) }); break;
      case 'stop': break; // the thread removes the member from its group, then calls finish()
    }
  }

  /** Resets a connection here, between polls (nothing else touches the device's ends meanwhile). */
  private reset(connId: number): number {
    const c = this.conns.get(connId);
    if (!c || !c.open) return -ERRNO.ENODEV;
    try {
      formatConnRings(this.bus, c.shms);
      replayModel(this.model, c, c.shms);
    } catch (e) {
      return e instanceof VbusError ? -e.errno : -ERRNO.EIO;
    }
    c.faultTold = false;
    return 0;
  }

  /** Closes every connection (the device stops); returns the counters. */
  finish(): BackendReport {
    for (const c of this.conns.values()) this.closeConn(c);
    return { served: this.server.served, polled: this.polled };
  }

  private fault(hook: string, e: unknown, memberId = 0): void {
    const f: DeviceFault = { busName: this.busName, deviceId: this.deviceId, memberId, hook, message: `threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}` };
    this.notify({ t: 'fault', fault: f });
  }

  private closeConn(c: BackendConnection): void {
    if (!this.conns.delete(c.id)) return;
    if (c.open) { c.open = false; try { this.model.close?.(c); } catch { /* closing cannot fail */ } }
    this.tables.freeTable(c.hTab);
  }

  private anyRequest(): boolean {
    for (const c of this.conns.values()) if (this.server.holdsRequest(c)) return true;
    return false;
  }

  /** dispatch() as the slot server calls it (made once, not a closure per request). */
  private readonly dispatchOp = (op: number, s: ServedSlot): Answer => this.dispatch(s as BackendConnection, op);

  private serveSlots(): number {
    let n = 0;
    for (const c of this.conns.values()) {
      if (!this.server.holdsRequest(c)) continue; // the STATE load that observes the request
      if (this.controlsInFlight()) { this.held = true; break; } // after it: see controlsInFlight
      if (this.server.serve(c, this.dispatchOp)) n++;
    }
    return n;
  }

  /** The verbs a direct slot carries: DEVCALL and SHMSIGNAL (open/close/shm go through the host's slot). */
  private dispatch(c: BackendConnection, op: number): Answer {
    if (!c.open) return { status: -ERRNO.ENODEV };
    if (op === OP_SHMSIGNAL) { this.pollModel(); return REPLY_OK; }
    if (op !== OP_DEVCALL) return { status: -ERRNO.EINVAL };
    if (!this.model.call) return { status: -ERRNO.ENOSYS };
    const t = this.tables;
    const func = t.field(CALL_FUNC);
    const ctx = (): FaultContext => ({ busName: this.busName, deviceId: this.deviceId, memberId: c.memberId, hook: 'call', func }); // built only for a fault
    let r: unknown;
    try {
      r = this.model.call(c, func, c.request.of(t.field(CALL_LEN)), c.payloadView);
    } catch (e) {
      return { status: this.server.modelErrno(e, ctx) };
    }
    if (isThenable(r)) return { status: -ERRNO.ENOTSUP }; // a pool thread serves many devices: models answer synchronously
    return this.server.callAnswer(r, ctx);
  }

  /** Guest-moved ring indices before polling (see ring-progress.ts). */
  private snapshotRings(): number[] {
    const out: number[] = [];
    for (const c of this.conns.values()) for (const r of c.shms) if (r.kind !== SHM_BUFFER) out.push(guestIndexWord(r), guestIndex(this.bus, guestIndexWord(r)));
    return out;
  }

  /** Step c for the rings: did the guest publish anything while notification was off? */
  private ringsMoved(snap: number[]): boolean {
    for (let i = 0; i < snap.length; i += 2) if (guestIndex(this.bus, snap[i]!) !== snap[i + 1]) return true;
    return false;
  }

  private pollModel(): number {
    if (!this.model.poll) return 0;
    let n = 0;
    for (const c of this.conns.values()) {
      if (!c.open || c.shms.length === 0) continue;
      try { n += this.model.poll(c); } catch { /* a failing poll only stops this device's progress */ }
      // The model stopped the connection (a corrupt ring): the host marks it NEEDS_RESET now, not at its next sweep.
      if (!c.faultTold && this.model.faulted?.(c)) { c.faultTold = true; this.notify({ t: 'conn-fault', connId: c.id }); }
    }
    this.polled += n;
    return n;
  }
}

/**
 * The loop of a backend worker: one device model, one doorbell, any number of direct
 * call slots and rings. It blocks in Atomics.wait (allowed in a worker) and never goes
 * near the host's event loop: the analogue of running the device in the kernel instead
 * of user-space qemu.
 *
 * It runs the blocking serve loop (src/core/serve-loop.ts) on its doorbell. Each round
 * takes control messages, has the slot server (slot-server.ts, the same one the host
 * endpoint uses) serve every direct slot that holds a request, and lets the model poll
 * its rings; the re-check looks at slots and rings, and every park has a deadline.
 */
import { SLOT_HEADER_BYTES, OP_DEVCALL, OP_SHMSIGNAL, SHM_BUFFER } from '../../../assembly/layout/callslot.js';
import { ERRNO } from '../../errors.js';
import type { BusMemory } from '../../core/bus-memory.js';
import { Waiter } from '../../core/signal.js';
import { serveSync } from '../../core/serve-loop.js';
import { DecodeTables, DT_ENTRIES } from '../decode-tables.js';
import { SlotServer, REPLY_OK, isThenable, type Answer, type InFlight, type ServedSlot } from '../slot-server.js';
import { CALL_FUNC, CALL_LEN } from '../../../assembly/layout/callslot.js';
import type { ConnectorModel, DeviceConnection, ShmRegion } from '../types.js';
import type { BackendControl, BackendNotice, BackendReport } from './protocol.js';
import { guestIndex, guestIndexWord } from '../ring-progress.js';
import { formatConnRings, replayModel } from '../conn-reset.js';
import { VbusError } from '../../errors.js';

class BackendConnection implements DeviceConnection, ServedSlot {
  readonly shms: ShmRegion[] = [];
  open = true;
  readonly payloadView: Uint8Array;
  inflight: InFlight | null = null; // a backend answers synchronously
  readonly live = true;
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
  }
  postEvent(): boolean { return false; } // events go through the host; backends answer calls and rings
}

/** Longest park of a backend before it sweeps its slots and rings anyway (the doorbell words are guest-writable). */
export const BACKEND_SLICE_MS = 100;

export class BackendLoop {
  private readonly conns = new Map<number, BackendConnection>();
  private readonly waiter: Waiter;
  private readonly tables: DecodeTables;
  private readonly server: SlotServer;
  private stopped = false;
  readonly report: BackendReport = { served: 0, polled: 0, wakeups: 0, spinHits: 0 };

  constructor(
    private readonly bus: BusMemory,
    private readonly busName: string,
    private readonly deviceId: number,
    doorbell: number,
    private readonly model: ConnectorModel & { attrChanged?(name: string, value: string): void },
    slotPayload: number,
    private readonly takeControl: () => BackendControl[],
    spin: { initial?: number; max?: number; fixed?: number } = {},
    private readonly notify: (n: BackendNotice) => void = () => {},
  ) {
    this.waiter = new Waiter(bus, doorbell, { initial: 4096, max: 1 << 17, ...spin });
    this.tables = new DecodeTables(bus.module);
    const devTab = this.tables.allocDeviceTable();
    // The backend only ever sees its own device: id -> generation 1.
    if (deviceId < DT_ENTRIES) this.tables.setDevice(devTab, deviceId, 1);
    this.server = new SlotServer(bus, this.tables, devTab, slotPayload, {
      // Reported by the host (which logs it or hands it to its listener); the error itself stays here.
      onDeviceFault: (f) => { const { error: _e, ...rest } = f; this.notify({ t: 'fault', fault: rest }); },
    });
  }

  /** Runs until a 'stop' message. */
  run(): BackendReport {
    const w = this.waiter;
    let moved: number[] = [];
    let work = 0;
    serveSync(w, {
      drain: () => {
        this.control();
        if (this.stopped) return;
        work = this.serveSlots();
        moved = this.snapshotRings();
        work += this.pollModel();
      },
      // Step c: served something (there may be more), a slot posted, a ring moved.
      arrived: () => work > 0 || this.anyRequest() || this.ringsMoved(moved),
      running: () => !this.stopped,
      sliceMs: BACKEND_SLICE_MS,
      parking: () => { this.report.wakeups++; },
    });
    this.report.spinHits = w.spinHits;
    this.report.served = this.server.served;
    for (const c of this.conns.values()) this.closeConn(c);
    return this.report;
  }

  private control(): void {
    for (const m of this.takeControl()) {
      switch (m.t) {
        case 'open': {
          const hTab = this.tables.allocHandleTable();
          this.tables.setHandle(hTab, m.handle, this.deviceId, 1);
          const c = new BackendConnection(m.connId, this.bus, this.busName, m.memberId, this.deviceId, m.version, m.handle, m.slot, hTab, this.server.payloadMax);
          this.conns.set(m.connId, c);
          try { this.model.open?.(c); } catch { c.open = false; }
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
        case 'attr': this.model.attrChanged?.(m.name, m.value); break;
        case 'reset': this.notify({ t: 'reset-done', connId: m.connId, req: m.req, status: this.reset(m.connId) }); break;
        case 'stop': this.stopped = true; break;
      }
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
    return 0;
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

  private serveSlots(): number {
    let n = 0;
    for (const c of this.conns.values()) if (this.server.serve(c, (op) => this.dispatch(c, op))) n++;
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
    const ctx = { busName: this.busName, deviceId: this.deviceId, memberId: c.memberId, hook: 'call', func };
    let r: unknown;
    try {
      r = this.model.call(c, func, c.payloadView.subarray(0, t.field(CALL_LEN)), c.payloadView);
    } catch (e) {
      return { status: this.server.modelErrno(e, ctx) };
    }
    if (isThenable(r)) return { status: -ERRNO.ENOTSUP }; // a backend owns its thread: models answer synchronously
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
    }
    this.report.polled += n;
    return n;
  }
}

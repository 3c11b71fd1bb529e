/**
 * The loop of a backend worker: one device model, one doorbell, any number of direct
 * call slots and rings. It blocks in Atomics.wait (allowed in a worker) and never goes
 * near the host's event loop: the analogue of running the device in the kernel instead
 * of user-space qemu.
 *
 * Each round: disable the doorbell (step a of assembly/signal.ts), take control messages,
 * serve every direct slot that holds a request (claimed REQUEST -> BUSY, decoded by the
 * core against this worker's private tables), let the model poll its rings, enable
 * (step b), re-check slots and rings (step c), then spin-then-park (steps d-e).
 */
import {
  SLOT_OFF_STATE, SLOT_OFF_SEQ, SLOT_OFF_RSEQ, SLOT_OFF_STATUS, SLOT_OFF_RLEN, SLOT_HEADER_BYTES,
  SLOT_REQUEST, SLOT_BUSY, SLOT_DONE, OP_DEVCALL, OP_SHMSIGNAL, SHM_BUFFER,
} from '../../../assembly/layout/callslot.js';
import { ERRNO, VbusError } from '../../errors.js';
import type { BusMemory } from '../../core/bus-memory.js';
import { Waiter } from '../../core/signal.js';
import { serveSync } from '../../core/serve-loop.js';
import { DecodeTables } from '../decode-tables.js';
import { CALL_FUNC, CALL_LEN } from '../../../assembly/layout/callslot.js';
import type { ConnectorModel, DeviceConnection, ShmRegion } from '../types.js';
import type { BackendControl, BackendNotice, BackendReport } from './protocol.js';
import { guestIndex, guestIndexWord } from '../ring-progress.js';

class BackendConnection implements DeviceConnection {
  readonly shms: ShmRegion[] = [];
  open = true;
  readonly payloadView: Uint8Array;
  readonly stateIdx: number;
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
    this.stateIdx = (slot + SLOT_OFF_STATE) >> 2;
  }
  postEvent(): boolean { return false; } // events go through the host; backends answer calls and rings
}

export class BackendLoop {
  private readonly conns = new Map<number, BackendConnection>();
  private readonly waiter: Waiter;
  private readonly tables: DecodeTables;
  private readonly devTab: number;
  private stopped = false;
  readonly report: BackendReport = { served: 0, polled: 0, wakeups: 0, spinHits: 0 };

  constructor(
    private readonly bus: BusMemory,
    private readonly busName: string,
    private readonly deviceId: number,
    doorbell: number,
    private readonly model: ConnectorModel & { attrChanged?(name: string, value: string): void },
    private readonly slotPayload: number,
    private readonly takeControl: () => BackendControl[],
    spin: { initial?: number; max?: number; fixed?: number } = {},
    private readonly notify: (n: BackendNotice) => void = () => {},
  ) {
    this.waiter = new Waiter(bus, doorbell, { initial: 4096, max: 1 << 17, ...spin });
    this.tables = new DecodeTables(bus.module);
    this.devTab = this.tables.allocDeviceTable();
    // The backend only ever sees its own device: id -> generation 1.
    if (deviceId < 256) this.tables.setDevice(this.devTab, deviceId, 1);
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
      sliceMs: Infinity,
      parking: () => { this.report.wakeups++; },
    });
    this.report.spinHits = w.spinHits;
    for (const c of this.conns.values()) this.closeConn(c);
    return this.report;
  }

  private control(): void {
    for (const m of this.takeControl()) {
      switch (m.t) {
        case 'open': {
          const hTab = this.tables.allocHandleTable();
          this.tables.setHandle(hTab, m.handle, this.deviceId, 1);
          const c = new BackendConnection(m.connId, this.bus, this.busName, m.memberId, this.deviceId, m.version, m.handle, m.slot, hTab, this.slotPayload);
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
        case 'stop': this.stopped = true; break;
      }
    }
  }

  private closeConn(c: BackendConnection): void {
    if (!this.conns.delete(c.id)) return;
    if (c.open) { c.open = false; try { this.model.close?.(c); } catch { /* closing cannot fail */ } }
    this.tables.freeTable(c.hTab);
  }

  private anyRequest(): boolean {
    const i32 = this.bus.i32;
    for (const c of this.conns.values()) if (Atomics.load(i32, c.stateIdx) === SLOT_REQUEST) return true;
    return false;
  }

  private serveSlots(): number {
    const i32 = this.bus.i32;
    let n = 0;
    for (const c of this.conns.values()) {
      if (Atomics.compareExchange(i32, c.stateIdx, SLOT_REQUEST, SLOT_BUSY) !== SLOT_REQUEST) continue; // claim
      n++;
      this.report.served++;
      const seq = Atomics.load(this.bus.u32, (c.slot + SLOT_OFF_SEQ) >> 2); // read once
      const op = this.tables.decode(this.bus, c.slot, this.devTab, c.hTab, this.slotPayload);
      let status = 0, rlen = 0;
      if (op < 0) status = op;
      else if (!c.open) status = -ERRNO.ENODEV;
      else if (op === OP_DEVCALL) {
        if (!this.model.call) status = -ERRNO.ENOSYS;
        else {
          try {
            const r = this.model.call(c, this.tables.field(CALL_FUNC), c.payloadView.subarray(0, this.tables.field(CALL_LEN)), c.payloadView);
            if (typeof r !== 'number') status = -ERRNO.ENOTSUP; // a backend owns its thread: models answer synchronously
            else if (r < 0) status = r;
            else if (r > this.slotPayload) status = -ERRNO.EPROTO;
            else rlen = r;
          } catch (e) {
            status = e instanceof VbusError ? -e.errno : -ERRNO.EIO;
          }
        }
      } else if (op === OP_SHMSIGNAL) {
        this.pollModel();
      } else {
        status = -ERRNO.EINVAL; // open/close/shm go through the host's slot
      }
      const s = c.slot;
      this.bus.u32[(s + SLOT_OFF_RSEQ) >> 2] = seq;
      this.bus.i32[(s + SLOT_OFF_STATUS) >> 2] = status;
      this.bus.u32[(s + SLOT_OFF_RLEN) >> 2] = rlen;
      Atomics.store(i32, c.stateIdx, SLOT_DONE); // reply before DONE
      Atomics.notify(i32, c.stateIdx, 1);
    }
    return n;
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

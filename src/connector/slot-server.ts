/**
 * The server end of a call slot, once, for the host endpoint and for backend workers:
 * claim the request, read its sequence once, decode it against host-private tables,
 * dispatch it, map whatever the device did (a length, an errno, a promise, a throw) to a
 * reply, and hand the slot back. Layout: assembly/layout/callslot.ts; guest end:
 * src/guest/call-client.ts.
 *
 *  claim    REQUEST -> BUSY with a compare-exchange: a request the guest took back
 *           (REQUEST -> IDLE) is not served, and after the claim it cannot be cancelled.
 *  seq      SEQ is read once, after the claim, and echoed in RSEQ: the guest matches it.
 *  decode   the eight request words are copied out once (DecodeTables.decode) and
 *           validated by the core: the guest cannot change a value after it was checked.
 *  dispatch the caller's verb table; model hooks run inside it.
 *  answer   a model's result is a length (>= 0, at most the payload), a negative errno,
 *           or a promise of one. A VbusError thrown is an answer with its errno. Anything
 *           else (another throw, a rejection with something else, undefined, NaN, a
 *           string) is a device fault: the guest gets EIO and the fault is reported once.
 *  deadline a promise that has not settled within `callTimeoutMs` is answered ETIMEDOUT
 *           and its late result dropped, so one lost promise cannot hold a slot forever.
 *  reply    RSEQ, STATUS, RLEN, RVALs, then STATE = DONE (release), and a notify if the
 *           guest said it parks (PARKED; always on the message transport, where a notify
 *           is what ships the reply).
 */
import {
  SLOT_OFF_STATE, SLOT_OFF_PARKED, SLOT_OFF_SEQ, SLOT_OFF_RSEQ, SLOT_OFF_STATUS, SLOT_OFF_RLEN, SLOT_OFF_RVAL0,
  SLOT_REQUEST, SLOT_BUSY, SLOT_DONE, SLOT_RVALS,
} from '../../assembly/layout/callslot.js';
import { ERRNO, VbusError } from '../errors.js';
import type { BusMemory } from '../core/bus-memory.js';
import type { DecodeTables } from './decode-tables.js';

/** One call slot as the server sees it. */
export interface ServedSlot {
  readonly slot: number;
  /** This slot's handle table in the host-private decode memory. */
  readonly hTab: number;
  /** The call being answered later (a model's promise), if any. */
  inflight: InFlight | null;
  /** False once nobody may be answered on this slot (its member left): replies are dropped. */
  readonly live: boolean;
}

export interface InFlight {
  readonly seq: number;
  /** Set once answered (by the model, by a deadline, or by an unplug): later answers are dropped. */
  answered: boolean;
  /** Who the call is for (the endpoint answers a device's calls ENODEV at unplug). */
  readonly owner: unknown;
  timer: ReturnType<typeof setTimeout> | null;
}

/** A reply: STATUS (0 or a negative errno), RLEN, and up to four RVALs. */
export interface Reply {
  status: number;
  rlen?: number;
  rvals?: readonly number[];
}

/** A reply that comes later (a model's promise), for the call of `owner` (a connection). */
export class Deferred {
  constructor(readonly promise: Promise<Reply>, readonly owner: unknown) {}
}

/** What a verb answers: a reply now, or later. */
export type Answer = Reply | Deferred;

/** Which device call a fault happened in, for the report. */
export interface FaultContext {
  busName: string;
  deviceId: number;
  memberId: number;
  /** The hook that failed: 'call', 'open', 'shm', ... */
  hook: string;
  func?: number;
}

/** A fault context, or what makes one (built only when a fault is reported: calls that go well allocate none). */
export type FaultContextOf = FaultContext | (() => FaultContext);

/** A device model misbehaved (threw, returned nonsense, rejected): reported once per fault. */
export interface DeviceFault extends FaultContext {
  message: string;
  error?: unknown;
}

export type FaultReporter = (f: DeviceFault) => void;

/** The default reporter: one line on stderr per fault. */
export const logDeviceFault: FaultReporter = (f) => {
  console.error(`vbus: device ${f.deviceId} on bus ${f.busName} (member ${f.memberId}, ${f.hook}${f.func !== undefined ? ` func ${f.func}` : ''}): ${f.message}`);
};

export const REPLY_OK: Reply = { status: 0 };

export interface SlotServerOptions {
  /** Deadline for a model's promise, ms. Default 30 000. */
  callTimeoutMs?: number;
  /** Where device faults go. Default: logDeviceFault. */
  onDeviceFault?: FaultReporter;
}

export class SlotServer {
  /** Requests served (claimed). */
  served = 0;
  /** Device faults reported. */
  faults = 0;
  readonly callTimeoutMs: number;
  onDeviceFault: FaultReporter;

  constructor(
    readonly bus: BusMemory,
    readonly tables: DecodeTables,
    readonly devTab: number,
    readonly payloadMax: number,
    opts: SlotServerOptions = {},
  ) {
    this.callTimeoutMs = opts.callTimeoutMs ?? 30_000;
    this.onDeviceFault = opts.onDeviceFault ?? logDeviceFault;
    this.notifyAlways = bus.transport !== 'shared';
  }

  /** Notify on every reply, PARKED or not: a mirrored memory ships the reply at its notify. */
  private readonly notifyAlways: boolean;

  /** Whether the slot holds a request now (for re-checks and sweeps; claims nothing). */
  holdsRequest(s: ServedSlot): boolean {
    return Atomics.load(this.bus.i32, (s.slot + SLOT_OFF_STATE) >> 2) === SLOT_REQUEST;
  }

  /**
   * Serves the slot if it holds a request. `dispatch` gets the decoded opcode (fields in
   * `this.tables`) and answers. Returns whether a request was claimed.
   */
  serve(s: ServedSlot, dispatch: (op: number, s: ServedSlot, seq: number) => Answer): boolean {
    const bus = this.bus;
    // Claim: only a slot that holds a request; a cancelled or forged state is left alone.
    if (Atomics.compareExchange(bus.i32, (s.slot + SLOT_OFF_STATE) >> 2, SLOT_REQUEST, SLOT_BUSY) !== SLOT_REQUEST) return false; // after this, the guest cannot cancel
    const seq = Atomics.load(bus.u32, (s.slot + SLOT_OFF_SEQ) >> 2); // read once, after the claim
    this.served++;
    const op = this.tables.decode(bus, s.slot, this.devTab, s.hTab, this.payloadMax);
    if (op < 0) { this.reply(s, seq, { status: op }); return true; }
    let a: Answer;
    try {
      a = dispatch(op, s, seq);
    } catch (e) {
      // A verb refused (VbusError) or failed; model hooks are guarded inside the verbs.
      a = { status: e instanceof VbusError ? -e.errno : -ERRNO.EIO };
    }
    if (a instanceof Deferred) this.later(s, seq, a);
    else this.reply(s, seq, a);
    return true;
  }

  /**
   * A model's DEVCALL result as an answer (see the header: lengths, errnos, promises; a
   * fault otherwise). `owner` tags a promise's in-flight record.
   */
  callAnswer(r: unknown, ctx: FaultContextOf, owner: unknown = null): Answer {
    if (typeof r === 'number') return this.lengthOrErrno(r, ctx);
    if (isThenable(r)) {
      return new Deferred(Promise.resolve(r).then(
        (n) => (typeof n === 'number' ? this.lengthOrErrno(n, ctx) : this.fault(ctx, `call resolved to ${describe(n)}; expected a length or a negative errno`)),
        (e) => ({ status: this.modelErrno(e, ctx) }),
      ), owner);
    }
    return this.fault(ctx, `call returned ${describe(r)}; expected a length, a negative errno or a promise of one (did it forget to return?)`);
  }

  /** The errno for what a model hook threw: a VbusError's own, else EIO and a reported fault. */
  modelErrno(e: unknown, ctx: FaultContextOf): number {
    if (e instanceof VbusError) return -e.errno;
    return this.fault(ctx, `threw ${e instanceof Error ? `${e.name}: ${e.message}` : describe(e)}`, e).status;
  }

  /** Writes the reply and hands the slot back (STATE = DONE), waking the guest. */
  reply(s: ServedSlot, seq: number, r: Reply): void {
    if (!s.live) return;
    const f = s.inflight;
    if (f && f.seq === seq) { s.inflight = null; if (f.timer) clearTimeout(f.timer); }
    const u32 = this.bus.u32;
    const at = s.slot;
    u32[(at + SLOT_OFF_RSEQ) >> 2] = seq;
    this.bus.i32[(at + SLOT_OFF_STATUS) >> 2] = r.status;
    u32[(at + SLOT_OFF_RLEN) >> 2] = r.rlen ?? 0;
    const rv = r.rvals;
    if (rv) for (let i = 0; i < rv.length && i < SLOT_RVALS; i++) u32[((at + SLOT_OFF_RVAL0) >> 2) + i] = rv[i]! >>> 0;
    const idx = (at + SLOT_OFF_STATE) >> 2;
    const i32 = this.bus.i32;
    Atomics.store(i32, idx, SLOT_DONE); // reply fields and payload before DONE (release)
    // After DONE (seq-cst): a guest that raised PARKED before it loaded STATE is seen here.
    if (this.notifyAlways || Atomics.load(i32, (at + SLOT_OFF_PARKED) >> 2) !== 0) Atomics.notify(i32, idx, 1);
  }

  /** Answers the call in flight on `s` now (unplug: ENODEV), if there is one; its late result is dropped. */
  cut(s: ServedSlot, status: number): void {
    const f = s.inflight;
    if (!f || f.answered) return;
    f.answered = true;
    this.reply(s, f.seq, { status });
  }

  private later(s: ServedSlot, seq: number, d: Deferred): void {
    const f: InFlight = { seq, answered: false, owner: d.owner, timer: null };
    s.inflight = f;
    const settle = (r: Reply): void => {
      if (f.answered) return;
      f.answered = true;
      this.reply(s, seq, r);
    };
    f.timer = setTimeout(() => settle({ status: -ERRNO.ETIMEDOUT }), this.callTimeoutMs);
    (f.timer as { unref?: () => void }).unref?.();
    d.promise.then(settle, () => settle({ status: -ERRNO.EIO })); // callAnswer already mapped rejections
  }

  private lengthOrErrno(n: number, ctx: FaultContextOf): Reply {
    if (!Number.isInteger(n)) return this.fault(ctx, `call returned ${n}; expected an integer`);
    if (n < 0) return { status: n };
    if (n > this.payloadMax) return { status: -ERRNO.EPROTO }; // a reply longer than the slot
    return { status: 0, rlen: n };
  }

  private fault(ctxOf: FaultContextOf, message: string, error?: unknown): Reply {
    this.faults++;
    const ctx = typeof ctxOf === 'function' ? ctxOf() : ctxOf;
    try { this.onDeviceFault({ ...ctx, message, ...(error !== undefined ? { error } : {}) }); } catch { /* a reporter cannot break the data path */ }
    return { status: -ERRNO.EIO };
  }
}

export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (typeof v === 'string') return `a string (${JSON.stringify(v.slice(0, 40))})`;
  if (typeof v === 'number') return String(v);
  return `a ${typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v}`;
}

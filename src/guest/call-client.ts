/**
 * The guest end of a call slot (layout: assembly/layout/callslot.ts; host end:
 * src/connector/bus-endpoint.ts).
 *
 * A call, in steps:
 *  1. Make sure the slot is IDLE (a call abandoned after a timeout may still be BUSY on
 *     the host: wait for its DONE and discard it).
 *  2. Write payload and request words, bump SEQ, then STATE = REQUEST.
 *  3. Set our bit in the pending words, then raise the bus doorbell.
 *  4. Spin adaptively on STATE, then park on it (Atomics.wait in a worker,
 *     Atomics.waitAsync for async calls) until DONE.
 *  5. Read STATUS / RLEN / RVALs and the reply payload, then STATE = IDLE.
 * A timeout or abort first tries to take the request back (REQUEST -> IDLE); once the
 * host has claimed it (BUSY) the call is abandoned and step 1 of the next call absorbs it.
 */
import {
  SLOT_OFF_STATE, SLOT_OFF_SEQ, SLOT_OFF_OP, SLOT_OFF_DEVID, SLOT_OFF_HANDLE, SLOT_OFF_FUNC,
  SLOT_OFF_LEN, SLOT_OFF_ARG0, SLOT_OFF_ARG1, SLOT_OFF_ARG2, SLOT_OFF_RSEQ, SLOT_OFF_STATUS, SLOT_OFF_RLEN, SLOT_OFF_RVAL0, SLOT_RVALS,
  SLOT_HEADER_BYTES, SLOT_IDLE, SLOT_REQUEST, SLOT_BUSY, SLOT_DONE, SLOT_DEAD, SLOT_MAGIC, SLOT_OFF_MAGIC, SLOT_OFF_GEN, SLOT_OFF_PARKED,
} from '../../assembly/layout/callslot.js';
import { BUSCTL_OFF_PENDING } from '../../assembly/layout/busctl.js';
import { ERRNO, vbusError } from '../errors.js';
import type { BusMemory } from '../core/bus-memory.js';
import { AdaptiveSpin, type SpinPolicy } from '../core/adaptive-spin.js';
import { parkedWord } from '../core/signal.js';
import { PrefixView } from '../core/prefix-view.js';
import { HOLDER_SPIN, type CallTurns } from '../core/call-turns.js';
import { gatedCallSync, syncCallsGated } from '../transport/sync-gate.js';
import type { CallOptions, Request } from './call-types.js';

export type { CallOptions, Request } from './call-types.js';

/**
 * A parked call looks at its slot at least this often, ms: the members of a bus share its
 * memory, and one that clears another's PARKED word (so that its reply is not notified)
 * then delays that call by at most this much, not until its deadline.
 */
export const PARKED_RECHECK_MS = 10;

/** A call's deadline when neither the call nor the client names one, ms. */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;

/** Where a call slot is and how to ring for it. */
export interface SlotAddress {
  slot: number;
  slotPayload: number;
  doorbell: number;
  busctl?: number;
  bit?: number;
  /** Deadline of a call that names none, ms (Infinity: wait for ever). Default DEFAULT_CALL_TIMEOUT_MS. */
  callTimeoutMs?: number;
}

export class CallClient {
  readonly bus: BusMemory;
  readonly payloadMax: number;
  /** Reply values of the last call (handle, region offsets, ...). */
  readonly rvals = new Uint32Array(SLOT_RVALS);
  /** Reply length of the last call. */
  rlen = 0;
  readonly spin: AdaptiveSpin;
  /** One chunk of the reply spin: polls STATE for DONE. */
  private readonly poll: (n: number) => number;
  private readonly stateIdx: number;
  /** The slot's PARKED word (see callslot.ts). */
  private readonly parkedIdx: number;
  private readonly payloadOff: number;
  /** The reply's bytes, copied out through a kept view (src/core/prefix-view.ts). */
  private readonly reply: PrefixView;
  private readonly pendingIdx: number;
  private readonly bitMask: number;
  private readonly doorbell: number;
  private readonly slot: number;
  /** The slot's generation at attach: a slot retired (or replaced) since answers ENODEV. */
  private readonly gen: number;
  private readonly genIdx: number;
  /** Deadline of a call that names none, ms. */
  readonly callTimeoutMs: number;
  private seq = 0;
  private abandoned = false;
  private asyncTail: Promise<unknown> = Promise.resolve();
  private asyncBusy = 0;
  /** Set once the host tore this member down; every later call fails with ENOTCONN. */
  dead = false;

  /**
   * `addr` names the slot, its payload size and the doorbell to raise; `busctl`/`bit`
   * are given for the member's own slot (served by the host, which looks at pending
   * bits) and left out for a direct slot (served by a backend that scans its slots).
   */
  /** The thread's call turns (src/core/call-turns.ts), taken by synchronous calls; null: none. */
  private readonly turns: CallTurns | null;

  /**
   * `turns`: take turns with the process's other busy callers (a guest worker passes its
   * thread's; a thread that serves calls itself must not).
   */
  constructor(bus: BusMemory, addr: SlotAddress, spin: SpinPolicy = {}, turns: CallTurns | null = null) {
    this.turns = turns;
    if (Atomics.load(bus.u32, (addr.slot + SLOT_OFF_MAGIC) >> 2) !== SLOT_MAGIC) { // magic before the fields it vouches for
      throw vbusError('EINVAL', `no call slot at offset ${addr.slot}`, { slot: addr.slot });
    }
    this.bus = bus;
    this.slot = addr.slot;
    this.genIdx = (addr.slot + SLOT_OFF_GEN) >> 2;
    this.gen = Atomics.load(bus.u32, this.genIdx);
    this.callTimeoutMs = addr.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.payloadMax = addr.slotPayload;
    this.stateIdx = (addr.slot + SLOT_OFF_STATE) >> 2;
    this.parkedIdx = (addr.slot + SLOT_OFF_PARKED) >> 2;
    this.payloadOff = addr.slot + SLOT_HEADER_BYTES;
    this.reply = new PrefixView(bus.u8.subarray(this.payloadOff, this.payloadOff + addr.slotPayload));
    this.pendingIdx = addr.busctl !== undefined && addr.bit !== undefined ? ((addr.busctl + BUSCTL_OFF_PENDING) >> 2) + (addr.bit >> 5) : -1;
    this.bitMask = addr.bit !== undefined ? 1 << (addr.bit & 31) : 0;
    this.doorbell = addr.doorbell;
    // The peer is the slot's server: it parks on the doorbell we ring, and once we have
    // rung it owes us an answer (so a parked server is one that is waking up).
    let peer;
    try { peer = parkedWord(bus, addr.doorbell); } catch { peer = undefined; } // no signal there: spin without a peer
    this.spin = new AdaptiveSpin({ ...(peer ? { peer } : {}), answers: true, ...spin });
    const i32 = bus.i32;
    const stateIdx = this.stateIdx;
    const stateAddr = addr.slot + SLOT_OFF_STATE;
    const core = bus.core;
    // Polls in the core (a wasm loop of atomic loads, ~20x cheaper per poll than a JS
    // loop): wait while STATE keeps its value, and look again when it changes (REQUEST ->
    // BUSY -> DONE), until DONE or the polls are used up.
    this.poll = (n) => {
      let left = n;
      while (left > 0) {
        const s = Atomics.load(i32, stateIdx); // acquire: pairs with the server's DONE store
        if (s === SLOT_DONE) return left;
        if (s !== SLOT_REQUEST && s !== SLOT_BUSY) return left; // DEAD or garbage: stop spinning, the caller sorts it out
        left = core.spin_while(stateAddr, s, left);
      }
      return 0;
    };
    this.gated = syncCallsGated(bus);
  }

  /** Synchronous calls cannot block in this thread (src/transport/sync-gate.ts). */
  private readonly gated: boolean;

  /** Calls posted on this slot so far (a resumed guest that takes its connections back posts none to open them). */
  get calls(): number { return this.seq; }

  /** The slot's payload area (request in, reply out). */
  payloadView(len: number): Uint8Array { return this.bus.u8.subarray(this.payloadOff, this.payloadOff + len); }

  /**
   * Synchronous call: blocks this worker until the reply. Returns the reply length
   * (>= 0, payload copied into `out` if given, truncated to its size) or a negative
   * errno. Never throws for a failed call.
   */
  callSync(req: Request, out: Uint8Array | null, opts: CallOptions = {}): number {
    if (this.gated) return gatedCallSync(this, req, out, opts); // message transport, a thread that cannot block: sent asynchronously or refused
    if (this.asyncBusy > 0) {
      throw vbusError('EBUSY', 'an asynchronous call is in flight on this guest; await it before making a synchronous call');
    }
    if (opts.signal?.aborted) return -ERRNO.ECANCELED;
    // The deadline needs a clock read, so it is taken only once a call has to wait (for
    // a turn, or to park after its spin): then it counts from there, which is at most one
    // spin (a fraction of a millisecond) after the call began.
    const ms = opts.timeoutMs ?? this.callTimeoutMs;
    const turns = this.turns;
    if (turns === null) return this.callSyncNow(req, out, ms, NaN);
    let deadline = NaN;
    if (!turns.keep()) { deadline = deadlineIn(ms); turns.join(deadline); } // a busy caller waits for its turn (bounded); then the call goes out as any
    try {
      return this.callSyncNow(req, out, ms, deadline);
    } finally {
      turns.exit();
    }
  }

  /** `deadline`: a performance.now() time, or NaN for "`ms` from the first wait". */
  private callSyncNow(req: Request, out: Uint8Array | null, ms: number, deadline: number): number {
    if (this.abandoned) {
      if (deadline !== deadline) deadline = deadlineIn(ms);
      const ready = this.reclaimSync(deadline);
      if (ready < 0) return ready;
    }
    const pre = this.post(req);
    if (pre < 0) return pre;
    const i32 = this.bus.i32;
    // Step 4: spin, then park.
    let s = Atomics.load(i32, this.stateIdx);
    if (s !== SLOT_DONE) {
      // A turn's holder that others wait for spins at least HOLDER_SPIN (see call-turns.ts).
      const turns = this.turns;
      this.spin.spin(this.poll, turns !== null && turns.holdsWhileWaited() ? HOLDER_SPIN : 0);
      s = Atomics.load(i32, this.stateIdx);
      if (s !== SLOT_DONE) {
        if (deadline !== deadline) deadline = deadlineIn(ms);
        s = this.parkSync(s, deadline);
        if (s !== SLOT_DONE) return s;
      }
    }
    return this.finish(out);
  }

  /**
   * Parks on STATE (holding `s`) until DONE. Returns SLOT_DONE, or a negative errno.
   * PARKED is up while parked (see callslot.ts): the server notifies only then.
   */
  private parkSync(s: number, deadline: number): number {
    const i32 = this.bus.i32;
    Atomics.store(i32, this.parkedIdx, 1);
    try {
      s = Atomics.load(i32, this.stateIdx); // after PARKED (seq-cst): a DONE stored before the server read PARKED is seen here
      while (s !== SLOT_DONE) {
        if (s === SLOT_DEAD) return -ERRNO.ENODEV;
        if (s !== SLOT_REQUEST && s !== SLOT_BUSY) return this.protocolError();
        const wait = msLeft(deadline);
        if (wait <= 0) return this.giveUp(-ERRNO.ETIMEDOUT);
        s = this.napSync(s, wait);
      }
      return SLOT_DONE;
    } finally {
      Atomics.store(i32, this.parkedIdx, 0);
    }
  }

  /**
   * One park on STATE while it holds `s`, for at most `wait` ms and at most
   * PARKED_RECHECK_MS; then PARKED up again (another member of the bus may have cleared
   * it) before the look that returns STATE. Called with PARKED up.
   */
  private napSync(s: number, wait: number): number {
    const i32 = this.bus.i32;
    Atomics.wait(i32, this.stateIdx, s, Math.min(wait, PARKED_RECHECK_MS));
    Atomics.store(i32, this.parkedIdx, 1);
    return Atomics.load(i32, this.stateIdx);
  }

  /** napSync with Atomics.waitAsync. */
  private async napAsync(s: number, wait: number): Promise<number> {
    const i32 = this.bus.i32;
    const w = Atomics.waitAsync(i32, this.stateIdx, s, Math.min(wait, PARKED_RECHECK_MS));
    if (w.async) await w.value;
    Atomics.store(i32, this.parkedIdx, 1);
    return Atomics.load(i32, this.stateIdx);
  }

  /** Asynchronous call: same protocol, parks with Atomics.waitAsync. Calls are queued one at a time. */
  callAsync(req: Request, out: Uint8Array | null, opts: CallOptions = {}): Promise<number> {
    this.asyncBusy++;
    const run = async (): Promise<number> => {
      try {
        if (opts.signal?.aborted) return -ERRNO.ECANCELED;
        const deadline = this.deadline(opts);
        const ready = await this.reclaimAsync(deadline, opts.signal);
        if (ready < 0) return ready;
        const pre = this.post(req);
        if (pre < 0) return pre;
        const i32 = this.bus.i32;
        let aborted = false;
        const onAbort = (): void => { aborted = true; Atomics.notify(i32, this.stateIdx); };
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        Atomics.store(i32, this.parkedIdx, 1); // this path always parks: the server must notify
        let s = Atomics.load(i32, this.stateIdx); // after PARKED, as in parkSync
        try {
          while (s !== SLOT_DONE) {
            if (s === SLOT_DEAD) return -ERRNO.ENODEV;
            if (s !== SLOT_REQUEST && s !== SLOT_BUSY) return this.protocolError();
            if (aborted) return this.giveUp(-ERRNO.ECANCELED);
            const wait = msLeft(deadline);
            if (wait <= 0) return this.giveUp(-ERRNO.ETIMEDOUT);
            s = await this.napAsync(s, wait);
          }
        } finally {
          Atomics.store(i32, this.parkedIdx, 0);
          opts.signal?.removeEventListener('abort', onAbort);
        }
        return this.finish(out);
      } finally {
        this.asyncBusy--;
      }
    };
    const p = this.asyncTail.then(run, run);
    this.asyncTail = p.catch(() => undefined);
    return p;
  }

  private deadline(opts: CallOptions): number {
    return deadlineIn(opts.timeoutMs ?? this.callTimeoutMs);
  }

  /** Steps 2-3. */
  private post(req: Request): number {
    if (this.dead) return -ERRNO.ENOTCONN;
    // A slot that was retired (magic or generation cleared, or another slot placed there
    // since) or a direct slot whose backend device is gone (DEAD) is not ours any more.
    if (Atomics.load(this.bus.u32, (this.slot + SLOT_OFF_MAGIC) >> 2) !== SLOT_MAGIC || Atomics.load(this.bus.u32, this.genIdx) !== this.gen
      || Atomics.load(this.bus.i32, this.stateIdx) === SLOT_DEAD) return -ERRNO.ENODEV;
    const len = req.payload ? req.payload.length : 0;
    if (len > this.payloadMax) return -ERRNO.EINVAL;
    const u32 = this.bus.u32;
    if (req.payload && len > 0) this.bus.u8.set(req.payload, this.payloadOff);
    const r = (this.slot + SLOT_OFF_OP) >> 2;
    u32[r] = req.op;
    u32[(this.slot + SLOT_OFF_DEVID) >> 2] = req.devId ?? 0;
    u32[(this.slot + SLOT_OFF_HANDLE) >> 2] = req.handle ?? 0;
    u32[(this.slot + SLOT_OFF_FUNC) >> 2] = req.func ?? 0;
    u32[(this.slot + SLOT_OFF_LEN) >> 2] = len;
    u32[(this.slot + SLOT_OFF_ARG0) >> 2] = req.args?.[0] ?? 0;
    u32[(this.slot + SLOT_OFF_ARG1) >> 2] = req.args?.[1] ?? 0;
    u32[(this.slot + SLOT_OFF_ARG2) >> 2] = req.args?.[2] ?? 0;
    this.seq = (this.seq + 1) >>> 0;
    u32[(this.slot + SLOT_OFF_SEQ) >> 2] = this.seq;
    Atomics.store(this.bus.i32, this.stateIdx, SLOT_REQUEST); // request words and payload before REQUEST
    if (this.pendingIdx >= 0) Atomics.or(this.bus.i32, this.pendingIdx, this.bitMask); // after REQUEST: the host claims only REQUEST slots
    this.bus.core.sig_raise(this.doorbell); // after the bit (seq-cst pair with the host's re-check)
    return 0;
  }

  /** Step 5. */
  private finish(out: Uint8Array | null): number {
    const u32 = this.bus.u32;
    if (u32[(this.slot + SLOT_OFF_RSEQ) >> 2] !== this.seq) {
      // DONE without our reply: the host removed this member.
      this.dead = true;
      return -ERRNO.ENOTCONN;
    }
    const status = this.bus.i32[(this.slot + SLOT_OFF_STATUS) >> 2]!;
    const rlen = Math.min(u32[(this.slot + SLOT_OFF_RLEN) >> 2]!, this.payloadMax);
    const rv = (this.slot + SLOT_OFF_RVAL0) >> 2;
    for (let i = 0; i < SLOT_RVALS; i++) this.rvals[i] = u32[rv + i]!;
    this.rlen = rlen;
    if (status >= 0 && out && rlen > 0) out.set(this.reply.of(Math.min(rlen, out.length)));
    // Done reading the reply before handing the slot back; a tombstone stays a tombstone.
    Atomics.compareExchange(this.bus.i32, this.stateIdx, SLOT_DONE, SLOT_IDLE);
    return status < 0 ? status : rlen;
  }

  /** Timeout/abort: take the request back if the host has not claimed it, else abandon it. */
  private giveUp(err: number): number {
    const prev = Atomics.compareExchange(this.bus.i32, this.stateIdx, SLOT_REQUEST, SLOT_IDLE); // races the host's claim; exactly one wins
    if (prev !== SLOT_REQUEST) {
      if (prev === SLOT_DONE) Atomics.store(this.bus.i32, this.stateIdx, SLOT_IDLE); // answered just now: discard
      else this.abandoned = true;
    }
    return err;
  }

  private protocolError(): number {
    // STATE holds a value nobody should write: reset the slot for the next call.
    Atomics.store(this.bus.i32, this.stateIdx, SLOT_IDLE);
    return -ERRNO.EPROTO;
  }

  private reclaimSync(deadline: number): number {
    if (!this.abandoned) return 0;
    const i32 = this.bus.i32;
    Atomics.store(i32, this.parkedIdx, 1); // parks for the abandoned call's DONE: the server must notify
    try {
      let s = Atomics.load(i32, this.stateIdx);
      while (s === SLOT_BUSY || s === SLOT_REQUEST) {
        const wait = msLeft(deadline);
        if (wait <= 0) return -ERRNO.ETIMEDOUT;
        s = this.napSync(s, wait);
      }
      this.abandoned = false;
      if (s === SLOT_DEAD) return -ERRNO.ENODEV;
      Atomics.store(i32, this.stateIdx, SLOT_IDLE); // discard the abandoned reply
      return 0;
    } finally {
      Atomics.store(i32, this.parkedIdx, 0);
    }
  }

  private async reclaimAsync(deadline: number, signal?: AbortSignal): Promise<number> {
    if (!this.abandoned) return 0;
    const i32 = this.bus.i32;
    Atomics.store(i32, this.parkedIdx, 1);
    try {
      let s = Atomics.load(i32, this.stateIdx);
      while (s === SLOT_BUSY || s === SLOT_REQUEST) {
        if (signal?.aborted) return -ERRNO.ECANCELED;
        const wait = msLeft(deadline);
        if (wait <= 0) return -ERRNO.ETIMEDOUT;
        s = await this.napAsync(s, wait);
      }
      this.abandoned = false;
      if (s === SLOT_DEAD) return -ERRNO.ENODEV;
      Atomics.store(i32, this.stateIdx, SLOT_IDLE);
      return 0;
    } finally {
      Atomics.store(i32, this.parkedIdx, 0);
    }
  }
}

function performanceNow(): number { return performance.now(); }

function deadlineIn(ms: number): number {
  return ms === Infinity ? Infinity : performanceNow() + ms;
}

/** Ms until `deadline` (a performance.now() time; Infinity for none). */
function msLeft(deadline: number): number {
  return deadline === Infinity ? Infinity : deadline - performanceNow();
}

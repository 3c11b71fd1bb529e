/**
 * Call turns: when more guest threads make back-to-back calls than there are cores, they
 * take turns, and pay one wake-up per turn instead of one per call.
 *
 * Why. A guest that calls again and again is served fast only while it runs: the server
 * answers within a microsecond or two and the guest catches the answer spinning (one
 * busy guest on this project's 2-vCPU VM: 250-300 k calls/s). With 64 of them on two
 * cores that never happens. Each one posts, parks, and is woken by the server, so every
 * call costs a park, a wake-up and two context switches (the same VM: about 55 k calls/s
 * in all, a fifth of one guest's rate). With turns, one busy guest at a time calls and
 * the others park without a call in flight. The holder and the server then answer each
 * other as one guest and its server do, sharing the spin gate's lease
 * (src/core/adaptive-spin.ts), and the number of threads that spin stays what the gate
 * allows: the waiters do not spin and ask for no lease.
 *
 * The rules:
 *  - A call that comes less than {@link BUSY_GAP_MS} after the same thread's previous one
 *    ended is a busy caller's, and needs the turn. Any other call goes out at once, as
 *    without turns: an interactive guest beside busy ones keeps its latency.
 *  - The turn is a ticket lock. A busy caller takes the next ticket (NEXT) and holds the
 *    turn while NOW equals its ticket. It keeps the turn while nobody waits (one busy
 *    guest pays three atomic operations per call). Once someone waits, it passes the turn
 *    after {@link callsPerTurn} calls or {@link TURN_MS}, whichever comes first, and takes
 *    a ticket again. Tickets are served in order, so busy callers get the turn in rotation
 *    and the same number of calls per turn, however fast the machine lets each make them.
 *    A turn is 256 calls: long against the change of holder it costs (a wake-up of the
 *    next holder and its first call's, 100-200 us on the 2-vCPU VM; with 64 calls a turn
 *    the host served 0.7-0.9x the calls per second at 4 to 64 guests), short enough that
 *    there are many rounds per second and shares even out. Beyond 64 in line the calls
 *    per turn shrink, so that a round (every busy caller's turn once) stays about
 *    {@link ROUND_CALLS} calls.
 *  - Each ticket has its own slot word to park on (ticket mod {@link TURN_SLOTS}), so a
 *    pass wakes exactly the thread it is for (one word for all would wake every waiter).
 *  - A holder that stops calling (it computes, waits for something else, or has ended)
 *    must not keep the others out. While others wait, the holder moves BEAT on every
 *    call (alone, it does not: nobody watches, and a lone caller's call costs two loads),
 *    and the waiter next in line (the head) parks with a timer of {@link STALL_MS}. A
 *    waiter that joins just after the holder looked at NEXT is seen at the holder's next
 *    call, microseconds later, far inside the head's timer. If BEAT and NOW have
 *    not moved when the timer ends, the holder has made no call in that time, and the
 *    head passes the turn on for it (it "kicks" it). A new holder wakes the new head, so
 *    exactly one waiter runs this timer at a time. The other waiters look only every
 *    {@link CHECK_MS}, in case the head is not running. A kicked holder finds out at its
 *    next call (NOW is not its ticket) and queues again.
 *  - A waiter whose deadline comes (its call's own, or {@link MAX_TURN_WAIT_MS} plus
 *    {@link TURN_MS} for every ticket that was ahead of it) leaves (its slot says LEFT,
 *    and a pass skips it) and makes its call without the turn. So no call waits for a
 *    turn longer than that. A thread that is done calling (a guest that closes) passes
 *    its turn on at once ({@link CallTurns.release}).
 *  - While others wait, the holder spins for each answer at least {@link HOLDER_SPIN}
 *    polls, whatever its adaptive budget says (still with a lease, and still cut short
 *    when the server parks or somebody else wants the core). The server spins on its bus
 *    then (below), so the answer comes within the server's service time, or one turn of
 *    its event loop, and a park there costs a wake-up of the holder for that one call.
 *    Without the floor, a few answers that came late (the server took an event-loop turn,
 *    or was preempted) halved the budget to 0, and from then on every call of the turn
 *    parked: at 256 guests on the 2-vCPU VM the holders parked on most calls, and the
 *    floor doubled the aggregate (34-44 k to 81-103 k calls/s, fairness 0.52-0.75 to
 *    0.77-0.88).
 *    It is short (a few microseconds): a holder that shares its core with the server
 *    spins it away on every call, and 65536 polls cost 64 guests a tenth of their rate.
 *  - While a turn is held and in use, servers spin for the next request longer, and on
 *    the holder's bus (its key: HOLDER), see src/connector/serve-group.ts. A waiter
 *    leaves its key beside its slot when it sits down, and a pass publishes it as HOLDER
 *    before it wakes the waiter: the wake-up takes tens of microseconds, and the server
 *    spends them on the doorbell the new holder's first call will ring.
 *
 * Memory ordering. Every access is an Atomics operation (sequentially consistent). Who
 * holds the turn is decided by NOW alone; a slot only says whom to wake and who left.
 * The one race that matters is a pass that frees the turn while a caller takes a ticket:
 * the passer stores NOW, then loads NEXT; the taker moves NEXT, then loads NOW. Under
 * sequential consistency at least one of them sees the other's write, so either the
 * passer sees the ticket and wakes its slot, or the taker sees NOW equal to its ticket
 * and holds (or both: they agree). A waiter that leaves and a pass that grants it
 * compare-exchange the same slot word, so exactly one of them wins: the waiter either
 * left (and the pass moves on to the next ticket) or holds.
 *
 * Hostile writers. The words are in the process-wide shared buffer, which every guest can
 * write. A guest that writes them can decide who calls when, so it can cost the other
 * guests latency and throughput: at most MAX_TURN_WAIT_MS + TURN_SLOTS * TURN_MS per call
 * (and never past the call's own deadline), after which they call without a turn; and a
 * holder key that names another bus makes a server spin on that bus's doorbell; a NOW
 * or NEXT written so that a guest believes it holds the turn while others wait makes it
 * spin HOLDER_SPIN polls for each answer (with a lease, as any spin). It
 * cannot cost them data, isolation or progress. Nothing read here is an offset or a
 * length, every wait has a deadline, ticket distances are checked (a queue that looks
 * longer than the slots, or negative, is reset to free), and the call that follows is
 * validated as every call is.
 */
import { coreCount, processShared } from '../platform/index.js';
import { GATE_WORDS } from './spin-gate.js';

/** Where the turn's words start in the process-wide buffer (after the spin gate's). */
export const TURN_BASE = GATE_WORDS;
/** Slot words (a power of two): at most this many - 1 threads queue at once; more call without the turn. */
export const TURN_SLOTS = 512;
/** Words of the turn: NOW, NEXT, BEAT, HOLDER, then (from word 8) the slots, then each slot's waiter's key. */
export const TURN_WORDS = 8 + 2 * TURN_SLOTS;
const NOW = 0;
const NEXT = 1;
const BEAT = 2;
/** The holder's key: which bus its calls go to, so the host spins on that bus's doorbell (a hint). */
const HOLDER = 3;
const SLOT0 = 8;
/** Where each slot's waiter leaves its key, so a pass can name the next holder's bus before it wakes it. */
const KEY0 = SLOT0 + TURN_SLOTS;
/** The words' layout, for tests that play a waiter by hand. */
export const TURN_LAYOUT = { NOW, NEXT, BEAT, HOLDER, SLOT0, KEY0 } as const;

// A slot holds its ticket's low 29 bits and a state, so a slot last used 512 tickets ago
// is never taken for the current one.
const WAITING = 1;
const GRANTED = 2;
const LEFT = 3;
function slotValue(ticket: number, state: number): number { return ((ticket & 0x1fffffff) << 2) | state; }
function slotOf(ticket: number): number { return SLOT0 + (ticket & (TURN_SLOTS - 1)); }
function keyOf(ticket: number): number { return KEY0 + (ticket & (TURN_SLOTS - 1)); }

/** Calls a holder makes at most in one turn while others wait. */
export const TURN_CALLS = 256;
/** Polls a holder spins at least for each answer while others wait for the turn (see the header). */
export const HOLDER_SPIN = 8192;
/** Calls a holder makes at least in one turn, however long the line (a turn must pay for its wake-up). */
export const MIN_TURN_CALLS = 16;
/** Calls a round of turns aims at (see the header). */
export const ROUND_CALLS = 16384;

/** Calls per turn with `inLine` threads in line (the holder included). */
export function callsPerTurn(inLine: number): number {
  return Math.max(MIN_TURN_CALLS, Math.min(TURN_CALLS, Math.floor(ROUND_CALLS / Math.max(1, inLine))));
}
/** Longest turn while others wait, ms (a slow device's holder passes sooner). */
export const TURN_MS = 4;
/** A call this soon (ms) after the thread's previous call ended is a busy caller's. */
export const BUSY_GAP_MS = 1;
/**
 * How long the head waits for the holder's next call before it passes the turn on, ms.
 * Far longer than the gap between a busy holder's calls (microseconds) and than a woken
 * thread takes to run on a VM (tens of microseconds); a pass counts as a call, so a new
 * holder has this long to make its first.
 */
export const STALL_MS = 3;
/** How often a waiter that is not the head looks whether anything moves, ms. */
export const CHECK_MS = 50;
/** The longest a call waits for a turn before it goes out without one, ms, plus TURN_MS for every ticket ahead of it. */
export const MAX_TURN_WAIT_MS = 500;

export interface CallTurnsOptions {
  /** The clock, ms. Default performance.now. */
  clock?: () => number;
  /** Override {@link STALL_MS} (tests). */
  stallMs?: number;
  /** Override {@link MAX_TURN_WAIT_MS} (tests). */
  maxWaitMs?: number;
}

/** Counters of one thread's turns (for tests and reports). */
export interface TurnStats {
  /** Turns this thread held. */
  taken: number;
  /** Turns it passed on. */
  passed: number;
  /** Turns it passed on for a holder that had stopped calling. */
  kicked: number;
  /** Turns taken from this thread while it held them (it had stopped calling, or was not running). */
  lost: number;
  /** Calls it made without the turn (spaced-out calls, a full queue, waits that hit their bound). */
  bypassed: number;
  /** Waits that hit MAX_TURN_WAIT_MS or the call's deadline. */
  waitsGivenUp: number;
}

// What a wait for a ticket ended with.
const HOLDS = 1;
const GAVE_UP = 2;
const PASSED_OVER = 3;

export class CallTurns {
  private readonly w: Int32Array;
  private readonly clock: () => number;
  private readonly stallMs: number;
  private readonly maxWaitMs: number;
  /** The ticket this thread holds the turn with, while `holding`. */
  private ticket = 0;
  private holding = false;
  /** Calls made in the turn held, once others wait; and when the turn began. */
  private calls = 0;
  private since = 0;
  /** When this thread's last call without the turn ended. */
  private lastEnd = -Infinity;
  readonly stats: TurnStats = { taken: 0, passed: 0, kicked: 0, lost: 0, bypassed: 0, waitsGivenUp: 0 };
  /**
   * What this thread publishes as the holder's key while it holds the turn: its bus's
   * (the connector sets it from the boot); the host then spins on that bus's doorbell.
   */
  key = 0;

  /** `words`: TURN_WORDS words of shared memory that every calling thread of the process uses. */
  constructor(words: Int32Array, opts: CallTurnsOptions = {}) {
    if (words.length < TURN_WORDS) throw new RangeError(`call turns need ${TURN_WORDS} words`);
    this.w = words;
    this.clock = opts.clock ?? (() => performance.now());
    this.stallMs = opts.stallMs ?? STALL_MS;
    this.maxWaitMs = opts.maxWaitMs ?? MAX_TURN_WAIT_MS;
  }

  /** True while this thread holds the turn (a hint: any guest can write the words). */
  holds(): boolean { return this.holding && Atomics.load(this.w, NOW) === this.ticket; }

  /**
   * True while this thread holds the turn and others wait for it (a hint, as holds()):
   * then the servers spin on its bus, and its answers are waited for spinning at least
   * HOLDER_SPIN polls.
   */
  holdsWhileWaited(): boolean { return this.holds() && this.inLine() > 1; }

  /** Threads in line from this thread's ticket on (itself included). */
  private inLine(): number { return (Atomics.load(this.w, NEXT) - this.ticket) | 0; }

  /**
   * Before a call: returns once this thread may post it, at the latest at `deadline` (a
   * performance.now() time; Infinity for none) or MAX_TURN_WAIT_MS from now. True when
   * it holds the turn for this call, false when the call goes out without it.
   */
  enter(deadline = Infinity): boolean {
    if (this.keep()) return true;
    return this.join(deadline);
  }

  /**
   * The fast path of {@link enter}: true when this thread holds the turn and this call
   * may go out under it (no clock read while nobody waits). False when it holds no turn
   * (any more): then {@link join} decides, and only then is a call's deadline needed.
   */
  keep(): boolean {
    if (!this.holding) return false;
    const w = this.w;
    if (Atomics.load(w, NOW) === this.ticket) {
      const inLine = this.inLine();
      if (inLine <= 1) return true; // nobody waits, so nobody watches the beat
      Atomics.add(w, BEAT, 1); // still calling: the head leaves the turn to us
      if (++this.calls < callsPerTurn(inLine) && this.clock() - this.since < TURN_MS) return true;
      this.pass(this.ticket);
    } else {
      this.stats.lost++; // kicked: we had stopped calling, or were not running
    }
    this.holding = false;
    this.lastEnd = Infinity; // we are busy: join() puts us back in line
    return false;
  }

  /** The slow path of {@link enter}, after keep() said no: queue (a busy caller) or go out at once. */
  join(deadline = Infinity): boolean {
    if (this.clock() - this.lastEnd >= BUSY_GAP_MS) return this.bypass();
    return this.queue(deadline);
  }

  /**
   * This thread will not call for a while (it ends, or goes to wait for something else):
   * pass the turn on now, instead of leaving it to the head to find out after STALL_MS.
   */
  release(): void {
    if (this.holding) {
      this.holding = false;
      if (Atomics.load(this.w, NOW) === this.ticket) this.pass(this.ticket);
    }
    this.lastEnd = -Infinity; // its next call is not a busy caller's
  }

  /** After a call (answered or failed). */
  exit(): void {
    if (!this.holding) this.lastEnd = this.clock(); // a call within BUSY_GAP_MS of this one is busy
  }

  private bypass(): boolean {
    this.stats.bypassed++;
    return false;
  }

  /** Takes tickets until one holds the turn, or the wait's bound comes. */
  private queue(deadline: number): boolean {
    // The bound grows with the line ahead (each turn in it may take TURN_MS), so a long
    // line that moves is waited for; a line written by a hostile guest is bounded too.
    const w = this.w;
    const ahead = Math.min(TURN_SLOTS, Math.max(0, (Atomics.load(w, NEXT) - Atomics.load(w, NOW)) | 0));
    const giveUpAt = Math.min(deadline, this.clock() + this.maxWaitMs + ahead * TURN_MS);
    for (;;) {
      if (this.clock() >= giveUpAt) { this.stats.waitsGivenUp++; return this.bypass(); }
      const t = this.takeTicket();
      if (t === null) return this.bypass();
      const r = this.waitFor(t, giveUpAt);
      if (r === HOLDS) {
        this.holding = true;
        this.ticket = t;
        this.calls = 0;
        this.since = this.clock();
        this.stats.taken++;
        Atomics.store(this.w, HOLDER, this.key); // a hint for the server (see turnHolder)
        // Wake the next in line: it is the head now and watches us. (Here, once we run,
        // not at the grant: two threads woken at once compete for the core the grant
        // should go to.)
        Atomics.notify(this.w, slotOf((t + 1) | 0), 1);
        return true;
      }
      if (r === GAVE_UP) { this.stats.waitsGivenUp++; return this.bypass(); }
      // Passed over (our turn came while we were not running, and was passed on): again.
    }
  }

  /** The next ticket, or null when the queue is full. */
  private takeTicket(): number | null {
    const w = this.w;
    for (let attempt = 0; attempt < 16; attempt++) {
      const next = Atomics.load(w, NEXT);
      const now = Atomics.load(w, NOW);
      const queued = (next - now) | 0;
      if (queued < 0 || queued > TURN_SLOTS) {
        // Not a queue this code makes (a hostile write): free the turn. Anyone still
        // waiting sees NOW pass its ticket, or times out, and queues again.
        Atomics.compareExchange(w, NOW, now, next);
        continue;
      }
      if (queued >= TURN_SLOTS - 1) return null;
      if (Atomics.compareExchange(w, NEXT, next, (next + 1) | 0) === next) return next; // seq-cst: see the header
    }
    return null;
  }

  private waitFor(t: number, giveUpAt: number): number {
    const w = this.w;
    const slot = slotOf(t);
    const waiting = slotValue(t, WAITING);
    const granted = slotValue(t, GRANTED);
    for (;;) {
      const now = Atomics.load(w, NOW);
      if (now === t) return HOLDS;
      const ahead = (t - now) | 0;
      // Sit down (again): the slot says we wait. A pass that got here first wrote GRANTED
      // over whatever was there, and then NOW is ours (above); a slot that says GRANTED
      // while NOW is not ours, or anything else, was written by somebody else.
      const v = Atomics.load(w, slot);
      if (v === granted && Atomics.load(w, NOW) === t) return HOLDS; // granted since our load of NOW (a pass stores NOW first)
      if (ahead < 0 || v === granted) { Atomics.compareExchange(w, slot, waiting, slotValue(t, LEFT)); return PASSED_OVER; }
      const at = this.clock();
      if (at >= giveUpAt) {
        // Leave, unless a pass granted us meanwhile (then the exchange fails and NOW is ours).
        const p = Atomics.compareExchange(w, slot, v, slotValue(t, LEFT));
        if (p === v || Atomics.load(w, NOW) !== t) return GAVE_UP;
        continue;
      }
      if (v !== waiting) {
        // Our key first: a pass that sees WAITING publishes it (seq-cst: the store
        // precedes the exchange that makes the slot say WAITING).
        Atomics.store(w, keyOf(t), this.key);
        Atomics.compareExchange(w, slot, v, waiting);
        continue;
      }
      const beat = Atomics.load(w, BEAT);
      const look = ahead === 1 ? this.stallMs : CHECK_MS;
      const r = Atomics.wait(w, slot, waiting, Math.min(look, giveUpAt - at));
      if (r !== 'timed-out' || giveUpAt - at < look) continue; // granted, woken as the new head, or our own bound came
      // Nothing moved for a whole look: the holder made no call. Pass the turn on for it
      // (only one of the waiters that find this wins the exchange).
      if (Atomics.load(w, NOW) === now && Atomics.load(w, BEAT) === beat && Atomics.compareExchange(w, NOW, now, (now + 1) | 0) === now) {
        this.stats.kicked++;
        this.grantFrom((now + 1) | 0);
      }
    }
  }

  /** Passes the turn of ticket `held` on, if it still is the turn. */
  private pass(held: number): void {
    if (Atomics.compareExchange(this.w, NOW, held, (held + 1) | 0) !== held) return; // kicked meanwhile
    this.stats.passed++;
    this.grantFrom((held + 1) | 0);
  }

  /**
   * NOW has just been set to `t`: wake its waiter. A ticket whose waiter left is skipped;
   * with nobody waiting the turn is free (NOW = NEXT) and the next busy caller takes it.
   */
  private grantFrom(t: number): void {
    const w = this.w;
    for (let k = 0; k < TURN_SLOTS; k++) {
      if (Atomics.load(w, NEXT) === t) return; // nobody waits: free (seq-cst: see the header)
      const slot = slotOf(t);
      const v = Atomics.load(w, slot);
      if (v === slotValue(t, LEFT)) {
        if (Atomics.compareExchange(w, NOW, t, (t + 1) | 0) !== t) return; // somebody else moved it on
        t = (t + 1) | 0;
        continue;
      }
      if (Atomics.compareExchange(w, slot, v, slotValue(t, GRANTED)) !== v) continue; // it sat down or left just now: look again
      // Name the new holder's bus now, not once it runs: its wake-up takes tens of
      // microseconds, and the server spins on that bus meanwhile (see turnHolder).
      Atomics.store(w, HOLDER, Atomics.load(w, keyOf(t)));
      Atomics.add(w, BEAT, 1); // a grant counts as a call: the new holder has STALL_MS to make its first
      Atomics.notify(w, slot, 1);
      return;
    }
  }
}

let threadTurns: CallTurns | null | undefined;
let processWords: Int32Array | null | undefined;

/**
 * The turn's words in the process-wide buffer; null where there are none: one core (where
 * nothing spins anyway), or a page that is not cross-origin isolated (its threads share
 * nothing to take turns on).
 */
function turnWords(): Int32Array | null {
  if (processWords === undefined) { const sab = processShared(); processWords = sab && coreCount() >= 2 ? new Int32Array(sab, TURN_BASE * 4, TURN_WORDS) : null; }
  return processWords;
}

/**
 * The key the turn's holder published (its bus's, see CallTurns.key), or 0. A hint: a
 * hostile guest can write any key, which makes the host spin on another bus's doorbell.
 */
export function turnHolder(): number {
  const w = turnWords();
  return w !== null ? Atomics.load(w, HOLDER) : 0;
}

/** How long a held turn whose BEAT has not moved still counts as in use, ms (see turnHeld). */
export const TURN_IDLE_MS = 5;
let seenBeat = 0;
let seenBeatAt = -Infinity;

/**
 * Whether some thread of the process holds the call turn while others wait for it, and
 * used it in the last TURN_IDLE_MS: then the next call is near, also across a change of
 * holder, and a server's spin for it pays (src/connector/serve-group.ts). A lone holder
 * does not count (no change of holder is coming: the server's own spin policy serves it),
 * and that case costs two loads and no clock read. A hint: any guest can make it
 * say yes, which costs the server a spin of at most its `max` before each park.
 */
export function turnHeld(): boolean {
  const w = turnWords();
  if (w === null || ((Atomics.load(w, NEXT) - Atomics.load(w, NOW)) | 0) <= 1) return false;
  const beat = Atomics.load(w, BEAT);
  const now = performance.now();
  if (beat !== seenBeat) { seenBeat = beat; seenBeatAt = now; return true; }
  return now - seenBeatAt < TURN_IDLE_MS;
}

/**
 * This thread's turns over the process-wide buffer; null where there is none (see
 * turnWords).
 */
export function callTurns(): CallTurns | null {
  if (threadTurns !== undefined) return threadTurns;
  const w = turnWords();
  threadTurns = w !== null ? new CallTurns(w) : null;
  return threadTurns;
}

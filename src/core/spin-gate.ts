/**
 * The spin gate: how many threads of this process may spin at once.
 *
 * A spinning thread occupies a core while it waits. With more spinners than cores, the
 * threads they wait for cannot run, so every spin is pure loss — the collapse of the
 * first round, where 64 guests each spun while the host they waited for had no core.
 * The gate keeps the spinners of the whole process below the cores that exist: at most
 * `cores - 1` leases (0 on one core, so there nobody ever spins), so at least one core is
 * always left to a thread that does work.
 *
 * A lease is one i32 word of the process-wide shared buffer (see
 * platform.processShared): 0 = free, otherwise its holder's tag (a number no other take
 * uses soon). A waiter takes a free word with a compare-exchange before it spins and
 * gives it back (compare-exchange of its own tag to 0) when the spin ends. A waiter that
 * is refused remembers, per word, the tag it saw and when (its own clock); a word that
 * still holds the same tag {@link LEASE_STALE_MS} later is taken over: that bounds what
 * a thread that died, or was preempted, while holding one can cost (spins are far
 * shorter than that). The clock is read only on a refusal, never to take a free word:
 * a clock read per lease was a large part of a spin's fixed cost.
 *
 * Hostile writers. Every guest can write this buffer (a browser has no read-only shared
 * memory, and Node's is the same). What a write can do: fill every word with fresh
 * stamps (nobody else spins: they park at once, paying a wake-up each — latency only),
 * clear words (more spinners than cores: CPU time and latency only), or bump the refusal
 * counter (spinners believe the cores are contended and spin less: latency only). Nothing ever
 * waits on a gate word, reads a length, an offset or a count from it, or decides
 * anything but "spin or park now" by it; the wait that follows always parks on the real
 * condition with its own deadline. So the gate can cost latency, never data, isolation
 * or progress. It does tell a guest when some other thread is spinning — a timing hint it
 * could also get from the CPU's own contention.
 */
import { coreCount, processShared } from '../platform/index.js';
import { sharedOrPrivateBuffer } from '../platform/shared-memory.js';

/** Words of the gate: lease words, then the refusal counter (capacity is min(cores - 1, GATE_WORDS - 1)). */
export const GATE_WORDS = 64;

/** The word that counts refused lease attempts: a waiter that sees it move knew others wanted its core. */
const REFUSALS = GATE_WORDS - 1;

/**
 * A lease this old (ms) belongs to a thread that died holding it (a worker terminated
 * mid-spin): it may be taken over. Far longer than a spin, and than a preemption of a
 * thread that holds one on a busy machine, so live leases are never taken over.
 */
export const LEASE_STALE_MS = 1000;

/** A refused thread looks for abandoned leases on every this many of its refusals (a power of two). */
export const STALE_CHECK_EVERY = 64;

// A lease word: a 30-bit tag, different for every take of this thread and started at a
// random point per thread, so a holder whose lease was taken over cannot free the new
// holder's lease. Never 0 (0 = free).
const TAG_MASK = (1 << 30) - 1;
let tagCounter = (Math.random() * TAG_MASK) | 0;

function nextTag(): number {
  tagCounter = (tagCounter + 1) & TAG_MASK;
  return tagCounter || 1;
}

export class SpinGate {
  /** Leases this gate grants at once. */
  readonly capacity: number;
  private readonly words: Int32Array;
  /** Lease attempts refused because every lease was held. */
  refused = 0;
  /** Per lease word, the tag this thread saw there when refused, and when (clock ms). */
  private readonly seenTag: Int32Array;
  private readonly seenAt: Float64Array;
  private readonly clock: () => number;
  /** Refusals of this thread so far (every STALE_CHECK_EVERY-th looks for abandoned leases). */
  private refusedHere = 0;

  /**
   * `words`: the lease words (any Int32Array over shared memory; at least `capacity`
   * long). `capacity`: leases at once; defaults to cores - 1. `clock`: ms, for the age of
   * a lease this thread was refused by (tests give their own; default Date.now).
   */
  constructor(words: Int32Array, capacity = coreCount() - 1, clock: () => number = Date.now) {
    this.words = words;
    this.clock = clock;
    this.seenTag = new Int32Array(GATE_WORDS);
    this.seenAt = new Float64Array(GATE_WORDS);
    if (words.length < GATE_WORDS) throw new RangeError(`a spin gate needs ${GATE_WORDS} words`);
    this.capacity = Math.max(0, Math.min(capacity | 0, GATE_WORDS - 1));
  }

  /**
   * Takes a lease. Returns its stamp-tagged handle (> 0: give it to {@link leave}) or 0
   * when the gate is full; a refusal moves the refusal counter (which tells the holders
   * somebody wants a core).
   */
  enter(): number {
    const cap = this.capacity;
    if (cap === 0) return 0;
    const w = this.words;
    const stamp = nextTag();
    for (let i = 0; i < cap; i++) {
      if (Atomics.load(w, i) === 0 && Atomics.compareExchange(w, i, 0, stamp) === 0) return handle(i, stamp); // seq-cst: two takers of one free word cannot both win
    }
    // Every word is held. Every STALE_CHECK_EVERY-th refusal of this thread: take over a
    // word whose tag has not changed for LEASE_STALE_MS (by this thread's own sightings),
    // and remember the others. (Not on every refusal: a clock read is most of a refusal's
    // cost, and busy waiters are refused again and again.)
    if ((++this.refusedHere & (STALE_CHECK_EVERY - 1)) === 0) { const t = this.takeStale(stamp); if (t !== 0) return t; }
    this.refused++;
    Atomics.add(w, REFUSALS, 1); // tells the spinners that someone wanted a core
    return 0;
  }

  private takeStale(stamp: number): number {
    const w = this.words;
    const cap = this.capacity;
    const now = this.clock();
    for (let i = 0; i < cap; i++) {
      const old = Atomics.load(w, i);
      if (old === 0) continue; // freed meanwhile: this refusal stands, the next wait asks again
      if (old !== this.seenTag[i]) { this.seenTag[i] = old; this.seenAt[i] = now; continue; }
      if (now - this.seenAt[i]! > LEASE_STALE_MS && Atomics.compareExchange(w, i, old, stamp) === old) {
        this.seenTag[i] = 0;
        return handle(i, stamp); // its holder died or stalled (or it is garbage)
      }
    }
    return 0;
  }

  /** The refusal counter: changes whenever somebody was refused a lease. */
  refusals(): number { return Atomics.load(this.words, REFUSALS); }

  /** Gives a lease back. A lease that was taken over (stale) is left to its new holder. */
  leave(h: number): void {
    if (h <= 0) return;
    const i = h % 64;
    const stamp = Math.floor(h / 64);
    Atomics.compareExchange(this.words, i, stamp, 0); // only our own stamp: never frees someone else's lease
  }

  /** Leases held now (for tests and reports; a hostile writer can make this anything). */
  held(): number {
    let n = 0;
    for (let i = 0; i < this.capacity; i++) if (Atomics.load(this.words, i) !== 0) n++;
    return n;
  }
}

/** Packs (word index, tag) into one positive number (tag < 2^30, so this stays < 2^36, exact in a double). */
function handle(i: number, stamp: number): number {
  return stamp * 64 + i;
}

let processGate: SpinGate | undefined;
let processGateShared = false;

/**
 * The gate of this process: on the process-wide shared buffer when the platform has one
 * (so every guest, backend and the host count against the same cores), else a gate of
 * this thread alone (which still bounds this thread's own spinning).
 */
export function spinGate(): SpinGate {
  if (processGate && processGateShared) return processGate;
  const sab = processShared();
  if (sab) {
    processGate = new SpinGate(new Int32Array(sab, 0, GATE_WORDS));
    processGateShared = true;
  } else if (!processGate) {
    processGate = new SpinGate(new Int32Array(sharedOrPrivateBuffer(GATE_WORDS * 4))); // private where shared memory is not allowed
  }
  return processGate;
}

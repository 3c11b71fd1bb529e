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
 * platform.processShared): 0 = free, otherwise the millisecond stamp at which it was
 * taken. A waiter takes a free word with a compare-exchange before it spins and gives it
 * back (compare-exchange of its own stamp to 0) when the spin ends. A lease older than
 * {@link LEASE_STALE_MS} is taken over: that bounds what a thread that died, or was
 * preempted, while holding one can cost (spins are far shorter than that).
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

// A lease word: (milliseconds mod 2^20) << 10 | a 10-bit tag that differs between takers,
// so that a holder whose lease was taken over within the same millisecond cannot free
// the new holder's lease. Never 0 (0 = free).
const MS_BITS = 20;
const MS_MASK = (1 << MS_BITS) - 1;
let tagCounter = (Math.random() * 1024) | 0;

function stampNow(): number {
  tagCounter = (tagCounter + 1) & 1023;
  return ((((Date.now() & MS_MASK) << 10) | tagCounter) >>> 0) || 1;
}

/** Whether a lease word is older than LEASE_STALE_MS, or from a future it cannot come from. */
function stale(word: number, now: number): boolean {
  const age = (((now >>> 10) - (word >>> 10)) & MS_MASK);
  return age > LEASE_STALE_MS && age < MS_MASK - LEASE_STALE_MS;
}

export class SpinGate {
  /** Leases this gate grants at once. */
  readonly capacity: number;
  private readonly words: Int32Array;
  /** Lease attempts refused because every lease was held. */
  refused = 0;

  /**
   * `words`: the lease words (any Int32Array over shared memory; at least `capacity`
   * long). `capacity`: leases at once; defaults to cores - 1.
   */
  constructor(words: Int32Array, capacity = coreCount() - 1) {
    this.words = words;
    if (words.length < GATE_WORDS) throw new RangeError(`a spin gate needs ${GATE_WORDS} words`);
    this.capacity = Math.max(0, Math.min(capacity | 0, GATE_WORDS - 1));
  }

  /**
   * Takes a lease. Returns its stamp-tagged handle (> 0: give it to {@link leave}) or 0
   * when the gate is full.
   */
  enter(): number {
    const cap = this.capacity;
    if (cap === 0) return 0;
    const w = this.words;
    const stamp = stampNow();
    for (let i = 0; i < cap; i++) {
      const old = Atomics.load(w, i);
      if (old === 0) {
        if (Atomics.compareExchange(w, i, 0, stamp) === 0) return handle(i, stamp); // seq-cst: two takers of one free word cannot both win
      } else if (stale(old, stamp)) {
        // Its holder died or stalled (or it is garbage): take it over.
        if (Atomics.compareExchange(w, i, old, stamp) === old) return handle(i, stamp);
      }
    }
    this.refused++;
    Atomics.add(w, REFUSALS, 1); // tells the spinners that someone wanted a core
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

/** Packs (word index, stamp) into one positive number (stamp < 2^30, so this stays < 2^36, exact in a double). */
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

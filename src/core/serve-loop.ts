/**
 * The serve loop of a consumer: the whole shm-signal cycle (Waiter in ./signal.ts, where
 * the protocol is written down) around a drain, in a blocking form for workers and an
 * event-loop form for the host and guests' async paths. Every consumer that waits on a
 * signal for work runs one of these two; nobody writes the disable / drain / enable /
 * re-check / park sequence by hand.
 *
 * Every park has a deadline (`sliceMs`): the signal words are guest-writable, so a loop
 * never relies on them for progress. After a slice that ended without a wake-up the
 * loop drains anyway (`sweep` first, when given: it may look at more than the fast path
 * does, e.g. every call slot instead of only the ones the pending bits name).
 *
 * A busy stream (`drainUntilEmpty`): a consumer that keeps finding work drains again with
 * notification still off, and re-enables only after a drain that found nothing. While
 * it is off the producer's raises cost one load of ENABLED and no write to the signal's
 * line, and the consumer writes that line once per idle spell instead of once per batch.
 */
import { Waiter, type Recheck } from './signal.js';
import { macrotask } from './macrotask.js';

export interface ServeLoop {
  /**
   * Drains what is there (step a's drain). With `drainUntilEmpty` it returns the work it
   * took (a number; > 0: there may be more); otherwise the return value is ignored.
   */
  drain(): unknown;
  /** Step c: is there work the drain has not taken? Called right after enabling notification. */
  arrived: Recheck;
  /** The loop runs while this is true; checked before every drain and after every wait. */
  running(): boolean;
  /** Longest park in ms before the loop sweeps on its own (a function: asked before every park). */
  sliceMs: number | (() => number);
  /** Called after a park that timed out, before the next drain (a deeper look for hidden work). */
  sweep?(): void;
  /** Called before every park (counters). */
  parking?(): void;
  /**
   * After a drain that returned a number > 0, drain again with notification still off;
   * enable and re-check only after a drain that returned 0 (see the file comment).
   * Default false: every drain is followed by the enable / re-check.
   */
  drainUntilEmpty?: boolean;
  /** Async form only: give the event loop a full turn every this many rounds (default 32). */
  yieldEvery?: number;
}

/** True when the loop should drain again before enabling (a busy drain under drainUntilEmpty). */
function busy(loop: ServeLoop, took: unknown): boolean {
  return loop.drainUntilEmpty === true && typeof took === 'number' && took > 0;
}

/** The blocking serve loop (a worker's thread belongs to it until `running()` is false). */
export function serveSync(w: Waiter, loop: ServeLoop): void {
  let enabled = true; // notification may be on: disable before the next drain
  while (loop.running()) {
    if (enabled) { w.disable(); enabled = false; } // step a: consume the wake-up, then drain
    const took = loop.drain();
    if (!loop.running()) break;
    if (busy(loop, took)) continue; // still off: the next drain sees what arrives meanwhile
    if (w.enable(loop.arrived)) continue; // steps b-c: more arrived while we drained (enable turned it off again)
    enabled = true;
    loop.parking?.();
    if (w.waitSync(sliceOf(loop)) === 'timed-out') loop.sweep?.(); // steps d-e
  }
}

/**
 * The event-loop serve loop. Never blocks longer than the waiter's spin budget; a peer
 * that keeps the signal raised (or a stream that keeps a drain busy) would make every
 * round return at once, so every `yieldEvery` rounds the loop gives timers, I/O and other
 * buses a full turn.
 */
export async function serveAsync(w: Waiter, loop: ServeLoop): Promise<void> {
  const every = loop.yieldEvery ?? 32;
  let rounds = 0;
  let enabled = true;
  while (loop.running()) {
    if (enabled) { w.disable(); enabled = false; } // step a
    const took = loop.drain();
    if (!loop.running()) break;
    if (busy(loop, took) || w.enable(loop.arrived)) { // busy, or steps b-c found more
      if (++rounds >= every) { rounds = 0; await macrotask(); }
      continue;
    }
    enabled = true;
    loop.parking?.();
    const r = w.waitAsync(sliceOf(loop)); // steps d-e
    if (++rounds >= every) { rounds = 0; await macrotask(); }
    if ((await r) === 'timed-out') loop.sweep?.();
  }
  w.releaseDeadline(); // no deadline timer outlives the loop
}

function sliceOf(loop: ServeLoop): number {
  return typeof loop.sliceMs === 'function' ? loop.sliceMs() : loop.sliceMs;
}

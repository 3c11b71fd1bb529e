/**
 * Host-thread placement of a device's rings: a serve loop (Atomics.waitAsync) on one of
 * a connection's ring signals that calls the model's poll() when it fires, and again
 * while poll() returns > 0 (it may have left work for the next call). The re-check is
 * "did the guest move its index while notification was off" (ring-progress.ts). The
 * loop ends when the connection closes or the endpoint stops; closing wakes it.
 */
import type { BusMemory } from '../core/bus-memory.js';
import { Waiter } from '../core/signal.js';
import { serveAsync } from '../core/serve-loop.js';
import { guestIndex, guestIndexWord } from './ring-progress.js';
import type { HostConnection } from './endpoint-member.js';
import type { ShmRegion } from './types.js';

/** Longest park of a watcher before it polls anyway (the signal words are guest-writable). */
export const WATCH_SLICE_MS = 250;

export function watchRing(mem: BusMemory, conn: HostConnection, region: ShmRegion, signal: number, running: () => boolean, onPollError: (e: unknown) => void, afterPoll: () => void = () => {}): void {
  const model = conn.device.model;
  if (!model.poll) return;
  const w = new Waiter(mem, signal, { initial: 0, max: 2048 });
  const word = guestIndexWord(region);
  let before = 0;
  void serveAsync(w, {
    drain: () => {
      before = guestIndex(mem, word);
      let n = 0;
      try { n = model.poll!(conn); } catch (e) { onPollError(e); } // a throwing model only stops its own progress
      afterPoll(); // the endpoint looks for a fault the poll ran into
      return typeof n === 'number' && n > 0 ? n : 0;
    },
    // The poll contract (types.ts): called again while it returns > 0, so a model may
    // bound one poll and leave the rest for the next (notification stays off meanwhile).
    drainUntilEmpty: true,
    arrived: () => guestIndex(mem, word) !== before, // the guest moved while we were not listening
    running: () => conn.open && running(),
    sliceMs: WATCH_SLICE_MS,
  });
  conn.watchers.push(() => w.wake()); // so the watcher sees the connection closed
}

// shm-signal: notification with suppression, after Linux vbus lib/shm_signal.c.
// Layout: assembly/layout/signal.ts.
//
// The protocol (signaler steps 1-3 here in sig_raise, waiter steps a-e in the Waiter),
// with its memory-ordering argument and why every park has a deadline, is written down
// once, at the Waiter in src/core/signal.ts. Parking itself happens in JavaScript (the
// Node 20 wasm wait bug). Each atomic below names the store or load it pairs with.
//
// Trust: every word here is shared. A hostile peer can only cause spurious wake-ups or
// missing ones on this signal, never an out-of-bounds access; waiters treat PENDING as a
// hint, park with deadlines and always re-check their data source.

import {
  SIG_MAGIC, SIG_VERSION, SIG_OFF_MAGIC, SIG_OFF_VERSION, SIG_OFF_ENABLED, SIG_OFF_PENDING,
  SIG_OFF_SLEEPING, SIG_OFF_RAISED, SIG_OFF_SUPPRESSED, SIG_OFF_NOTIFIES, SIG_BYTES,
} from "./layout/signal";
import { REGION_ALIGN } from "./layout/ring";
import { ST_BAD_ARG, ST_BAD_MAGIC } from "./layout/status";

@inline function inMemory(ptr: u32, len: u32): bool {
  const size = (memory.size() as u32) << 16;
  return ptr <= size && len <= size - ptr;
}

/** Formats a signal region at `sig`. Returns 0 or ST_BAD_ARG (misaligned / outside memory). */
export function sig_init(sig: u32): i32 {
  if ((sig & ((REGION_ALIGN as u32) - 1)) != 0 || !inMemory(sig, SIG_BYTES)) return ST_BAD_ARG;
  memory.fill(sig, 0, SIG_BYTES);
  store<u32>(sig, SIG_VERSION, SIG_OFF_VERSION);
  atomic.store<u32>(sig, SIG_MAGIC, SIG_OFF_MAGIC); // fields before the magic that vouches for them
  return 0;
}

/** Attach check: 0, ST_BAD_ARG or ST_BAD_MAGIC. */
export function sig_check(sig: u32): i32 {
  if ((sig & ((REGION_ALIGN as u32) - 1)) != 0 || !inMemory(sig, SIG_BYTES)) return ST_BAD_ARG;
  if (atomic.load<u32>(sig, SIG_OFF_MAGIC) != SIG_MAGIC) return ST_BAD_MAGIC; // magic before the fields
  if (load<u32>(sig, SIG_OFF_VERSION) != SIG_VERSION) return ST_BAD_MAGIC;
  return 0;
}

/**
 * Signaler: steps 1-3 above. Returns 1 when a wake-up was raised, 0 when suppressed.
 * Statistics are plain increments on the signaler-only line: exact with one signaler,
 * best-effort when several share a signal (a doorbell).
 */
export function sig_raise(sig: u32): i32 {
  if (atomic.load<i32>(sig, SIG_OFF_ENABLED) == 0) { // after the caller's data store (seq-cst pair with waiter step b/c)
    store<u32>(sig, load<u32>(sig, SIG_OFF_SUPPRESSED) + 1, SIG_OFF_SUPPRESSED);
    return 0;
  }
  if (atomic.xchg<i32>(sig, 1, SIG_OFF_PENDING) != 0) { // only the 0 -> 1 edge wakes
    store<u32>(sig, load<u32>(sig, SIG_OFF_SUPPRESSED) + 1, SIG_OFF_SUPPRESSED);
    return 0;
  }
  store<u32>(sig, load<u32>(sig, SIG_OFF_RAISED) + 1, SIG_OFF_RAISED);
  if (atomic.load<i32>(sig, SIG_OFF_SLEEPING) != 0) { // after PENDING = 1 (pairs with the waiter's SLEEPING store)
    atomic.notify(sig + (SIG_OFF_PENDING as u32), 1);
    store<u32>(sig, load<u32>(sig, SIG_OFF_NOTIFIES) + 1, SIG_OFF_NOTIFIES);
  }
  return 1;
}

/** Waiter step b: ask to be told about new data. */
export function sig_enable(sig: u32): void {
  atomic.store<i32>(sig, 1, SIG_OFF_ENABLED); // before the caller's re-check of its data (step c)
}

/** Waiter step a: stop notifications and forget a raised one (the caller drains next). */
export function sig_disable(sig: u32): void {
  atomic.store<i32>(sig, 0, SIG_OFF_ENABLED); // signalers from now on see "busy"
  atomic.store<i32>(sig, 0, SIG_OFF_PENDING); // consume the wake-up; the drain that follows covers it
}

/**
 * Waiter step d: polls PENDING up to `spins` times. Returns the number of polls left
 * when it was seen raised (> 0), or 0 when the budget ran out. Never waits: parking is
 * done from JavaScript (Atomics.wait / waitAsync) on the same word.
 */
export function sig_spin(sig: u32, spins: u32): u32 {
  let left = spins;
  while (left > 0) {
    if (atomic.load<i32>(sig, SIG_OFF_PENDING) != 0) return left; // acquire: pairs with the xchg in sig_raise
    left--;
  }
  return 0;
}

/**
 * Polls the i32 at `addr` up to `spins` times while it still equals `value`. Returns the
 * polls left when it changed (> 0), or 0 when the budget ran out. Used by callers that
 * wait for a reply word (a call slot's STATE) before parking on it from JavaScript.
 */
export function spin_while(addr: u32, value: i32, spins: u32): u32 {
  let left = spins;
  while (left > 0) {
    if (atomic.load<i32>(addr) != value) return left; // acquire: pairs with the writer's atomic store
    left--;
  }
  return 0;
}

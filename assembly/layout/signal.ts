// shm-signal region layout: one notification channel, two 64-byte lines.
//
//  offset  0            4            8            12           16           20 ... 63
//          +------------+------------+------------+------------+------------+-----
//  line 0  | MAGIC u32  | VERSION u32| ENABLED i32| PENDING i32| SLEEPING i32| (zero)     control: both sides
//          +------------+------------+------------+------------+------------+-----
//  line 1  | RAISED u32 | SUPPRESSED | NOTIFIES u32| (zero)                             statistics: signalers only
//   (64)   +------------+------------+------------+-----
//
// The statistics live on their own line so that counting a suppressed signal (the hot
// path) does not invalidate the line the waiter is spinning on.
//
// ENABLED   written by the waiter: 1 = "tell me when something arrives".
// PENDING   the futex word: the signaler sets 0 -> 1; the waiter parks on PENDING == 0 and clears it.
// SLEEPING  written by the waiter just before it parks, so the signaler pays for
//           Atomics.notify only when somebody is actually asleep.
// RAISED / SUPPRESSED / NOTIFIES   statistics kept by the signaler (one writer).

export const SIG_MAGIC = 0x47495356; // "VSIG"
export const SIG_VERSION = 1;

export const SIG_LINE = 64;
export const SIG_OFF_MAGIC = 0;
export const SIG_OFF_VERSION = 4;
export const SIG_OFF_ENABLED = 8;
export const SIG_OFF_PENDING = 12;
export const SIG_OFF_SLEEPING = 16;
export const SIG_OFF_RAISED = SIG_LINE;
export const SIG_OFF_SUPPRESSED = SIG_LINE + 4;
export const SIG_OFF_NOTIFIES = SIG_LINE + 8;

export const SIG_BYTES = 2 * SIG_LINE;

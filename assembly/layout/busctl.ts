// Bus control region: one per bus, placed by the host when the bus's connector starts.
//
//  offset  0            4            8            12 ... 63
//          +------------+------------+------------+-----
//  line 0  | MAGIC u32  | VERSION u32| WORDS u32  | (zero)
//          +------------+------------+------------+-----
//  line 1  | PENDING[0] | PENDING[1] | ... PENDING[WORDS-1]       one bit per member slot
//   (64)   +------------+------------+-----
//
// A guest that posted a request sets its slot's bit (Atomics.or) and then raises the
// bus doorbell (a signal region of its own). The host takes all bits at once with
// Atomics.exchange(word, 0) and serves those slots. A forged bit only makes the host
// look at a slot that holds no request, which it ignores.

export const BUSCTL_MAGIC = 0x4c544356; // "VCTL"
export const BUSCTL_VERSION = 1;
export const BUSCTL_OFF_MAGIC = 0;
export const BUSCTL_OFF_VERSION = 4;
export const BUSCTL_OFF_WORDS = 8;
export const BUSCTL_LINE = 64;
export const BUSCTL_OFF_PENDING = BUSCTL_LINE;
/** Pending words: 8 x 32 = 256 member slots per bus. */
export const BUSCTL_WORDS = 8;
export const BUSCTL_MAX_MEMBERS = BUSCTL_WORDS * 32;
export const BUSCTL_BYTES = 2 * BUSCTL_LINE;

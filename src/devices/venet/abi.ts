/**
 * The virtual-ethernet ABI: one source for every venet class (loopback, switch, tap) and
 * for the guest driver, so the two sides cannot drift apart. A driver binds to the
 * interface type {@link VENET_INTERFACE}, never to a class.
 *
 * Data path (queue numbers are DEVSHM queue numbers):
 *
 *   guest --TX ring (queue 0, guest->device)--> device     one record = one frame
 *   guest <--RX ring (queue 1, device->guest)-- device     one record = one frame
 *   guest <--EVENT ring (queue 2, device->guest)-- device  one record = one event
 *
 * Control path (DEVCALL function numbers): {@link VENET_FUNC_QUERY} answers the
 * interface's identity (MAC, MTU, link state); {@link VENET_FUNC_NEGOTIATE} takes the
 * features the guest offers and answers the negotiated set = offered AND the admin's
 * `features_cap`.
 */

/** Interface type every venet class registers first. */
export const VENET_INTERFACE = 'virtual-ethernet';
/** Interface version a driver opens (DEVOPEN version); the device refuses others. */
export const VENET_VERSION = 1;

// ---- queues ------------------------------------------------------------------------
/** Guest -> device frames (SHM_RING_TO_DEVICE). */
export const VENET_QUEUE_TX = 0;
/** Device -> guest frames (SHM_RING_TO_GUEST). */
export const VENET_QUEUE_RX = 1;
/** Device -> guest events: LINK_UP, LINK_DOWN, TX_DONE (SHM_RING_TO_GUEST). */
export const VENET_QUEUE_EVENT = 2;

// Multiqueue (VENET_F_MQ): queue pair P has its own TX and RX rings at DEVSHM queue
// numbers P * 3 + 0 and P * 3 + 1 (pair 0 is the two above); the one EVENT ring stays
// queue 2. Steering: the device puts a frame on the receiver's RX ring of the pair
// number the sender sent it on, modulo the receiver's pair count (a loopback answers on
// the pair that sent; frames from outside the bus, a TAP or an external switch port,
// arrive on pair 0). So a flow a guest thread sends on one pair stays in order on one pair.
/** DEVSHM queue numbers per pair. */
export const VENET_QUEUES_PER_PAIR = 3;
/** Most queue pairs a device offers (the `queues` attribute's upper bound). */
export const VENET_MAX_QUEUES = 64;
/** The DEVSHM queue number of `role` (VENET_QUEUE_TX or _RX) in pair `pair`. */
export function venetQueue(pair: number, role: number): number { return pair * VENET_QUEUES_PER_PAIR + role; }

// ---- calls -------------------------------------------------------------------------
/** Query: empty request; reply is an info record (layout below). */
export const VENET_FUNC_QUERY = 1;
/**
 * Negotiate: request u32 offered feature bits, optionally followed by u32 queue pairs
 * wanted; reply u32 negotiated bits, followed by u32 queue pairs granted when the
 * request carried the count (layout below).
 */
export const VENET_FUNC_NEGOTIATE = 2;

// Info record (reply of VENET_FUNC_QUERY), little-endian:
//
//   0                6        8                12               16
//   +----------------+--------+----------------+----------------+
//   | CLIENT_MAC [6] | (zero) | MTU u32        | LINK u32 (1=up)|
//   +----------------+--------+----------------+----------------+
//   | HOST_MAC [6]   | (zero) | FEATURES_CAP u32| NEGOTIATED u32|
//   +----------------+--------+----------------+----------------+
//   16               22       24               28               32
export const INFO_OFF_CLIENT_MAC = 0;
export const INFO_OFF_MTU = 8;
export const INFO_OFF_LINK = 12;
export const INFO_OFF_HOST_MAC = 16;
export const INFO_OFF_FEATURES_CAP = 24;
export const INFO_OFF_NEGOTIATED = 28;
/** Bytes of the info record. */
export const INFO_BYTES = 32;

/** Bytes of the negotiate request and reply (one u32 of feature bits). */
export const NEGOTIATE_BYTES = 4;
// Negotiate with a queue count (8 bytes each way):
//   0                4                8
//   +----------------+----------------+
//   | FEATURES u32   | QUEUES u32     |
//   +----------------+----------------+
// Request: offered bits, pairs wanted (>= 1). Reply: agreed bits, pairs granted:
// min(wanted, the admin's `queues`) when VENET_F_MQ was offered, else 1. The count is
// fixed once a ring of pair 1 or above is set up (later calls answer it unchanged).
export const VENET_NEG_OFF_FEATURES = 0;
export const VENET_NEG_OFF_QUEUES = 4;
/** Bytes of a negotiate request and reply that carry the queue count. */
export const NEGOTIATE_MQ_BYTES = 8;

// ---- feature bits ------------------------------------------------------------------
/**
 * Checksum offload. A sender may mark a frame {@link FRAME_F_CSUM_PARTIAL} ("my L4
 * checksum is not filled in"); a receiver that negotiated it gets
 * {@link FRAME_F_DATA_VALID} on frames that never left shared memory (nothing to
 * verify). Without it the device drops frames carrying either flag and delivers no flags.
 */
export const VENET_F_CSUM = 1 << 0;
/**
 * TX completions: after each device pass over the TX ring, an EVENT_TX_DONE event says
 * how many frames it consumed (so a driver can recycle buffers or pace itself).
 */
export const VENET_F_TX_DONE = 1 << 1;
/** Every feature bit `features_cap` caps. */
export const VENET_F_ALL = VENET_F_CSUM | VENET_F_TX_DONE;
/**
 * Multiqueue: more than one TX/RX queue pair (see the queues above). Capped by the
 * admin's `queues` attribute, not by `features_cap`: agreed when more than one pair was
 * granted.
 */
export const VENET_F_MQ = 1 << 2;

/** Feature names as the admin view shows them (`negotiated`, `features_cap`). */
export const VENET_FEATURE_NAMES: ReadonlyArray<readonly [string, number]> = [
  ['csum', VENET_F_CSUM],
  ['tx_done', VENET_F_TX_DONE],
];

// ---- frame records -----------------------------------------------------------------
// A TX or RX ring record is exactly one Ethernet frame, header included, no FCS:
//
//   0            6            12       14
//   +------------+------------+--------+---------------------------+
//   | DST MAC[6] | SRC MAC[6] | TYPE u16 (big-endian) | payload ... |
//   +------------+------------+--------+---------------------------+
//
// The ring record's TAG carries the frame flags below (bits not listed must be zero).
export const ETH_OFF_DST = 0;
export const ETH_OFF_SRC = 6;
export const ETH_OFF_TYPE = 12;
/** Ethernet header bytes: a frame is at least this long. */
export const ETH_HEADER_BYTES = 14;
export const ETH_ALEN = 6;
/** Default MTU (payload bytes after the header). */
export const VENET_DEFAULT_MTU = 1500;
/** Largest MTU an admin may set (jumbo frames). */
export const VENET_MAX_MTU = 65535 - ETH_HEADER_BYTES;
/** Smallest MTU an admin may set (IPv4 minimum). */
export const VENET_MIN_MTU = 68;

/** TX tag flag (needs VENET_F_CSUM): the L4 checksum is not filled in. */
export const FRAME_F_CSUM_PARTIAL = 1 << 0;
/** RX tag flag (needs VENET_F_CSUM): the frame's data needs no checksum verification. */
export const FRAME_F_DATA_VALID = 1 << 1;
/** Every frame flag; a TX tag with other bits set is malformed. */
export const FRAME_F_ALL = FRAME_F_CSUM_PARTIAL | FRAME_F_DATA_VALID;

/** Frame flags that need feature `f` (a flag without its feature makes a frame malformed). */
export function frameFlagsAllowed(negotiated: number): number {
  return (negotiated & VENET_F_CSUM) !== 0 ? FRAME_F_CSUM_PARTIAL : 0;
}

// ---- event records -----------------------------------------------------------------
// An EVENT ring record (TAG 0):
//
//   0                4                8
//   +----------------+----------------+
//   | CODE u32       | ARG u32        |
//   +----------------+----------------+
export const EVENT_OFF_CODE = 0;
export const EVENT_OFF_ARG = 4;
export const EVENT_BYTES = 8;

/** The link went up (the admin set `enabled` to 1); ARG 0. Also sent as the first event. */
export const EVENT_LINK_UP = 1;
/** The link went down (`enabled` 0): frames sent meanwhile are dropped; ARG 0. */
export const EVENT_LINK_DOWN = 2;
/** Needs VENET_F_TX_DONE: the device consumed ARG more frames from the TX ring. */
export const EVENT_TX_DONE = 3;

// ---- MAC text ----------------------------------------------------------------------
const MAC_TEXT = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/** True for `aa:bb:cc:dd:ee:ff` (any case). */
export function isMacText(text: string): boolean { return MAC_TEXT.test(text); }

/** Parses `aa:bb:cc:dd:ee:ff` into 6 bytes; the caller has checked {@link isMacText}. */
export function macFromText(text: string): Uint8Array {
  const out = new Uint8Array(ETH_ALEN);
  const parts = text.split(':');
  for (let i = 0; i < ETH_ALEN; i++) out[i] = parseInt(parts[i]!, 16);
  return out;
}

/** Formats 6 bytes at `at` of `b` as `aa:bb:cc:dd:ee:ff`. */
export function macToText(b: Uint8Array, at = 0): string {
  let s = '';
  for (let i = 0; i < ETH_ALEN; i++) s += (i ? ':' : '') + b[at + i]!.toString(16).padStart(2, '0');
  return s;
}

/**
 * A MAC as one number (48 bits fit a double exactly): the key of a switch's table
 * without allocating. `b[at]` is the most significant byte.
 */
export function macKey(b: Uint8Array, at: number): number {
  return (b[at]! * 0x10000 + ((b[at + 1]! << 8) | b[at + 2]!)) * 0x1000000 + ((b[at + 3]! << 16) | (b[at + 4]! << 8) | b[at + 5]!);
}

/** True if the MAC at `at` is a group (multicast or broadcast) address: I/G bit set. */
export function isGroupMac(b: Uint8Array, at: number): boolean { return (b[at]! & 1) !== 0; }

/** Formats feature bits as the admin view shows them: `csum,tx_done` or `none`. */
export function featuresToText(bits: number): string {
  const names = [...VENET_FEATURE_NAMES, ['mq', VENET_F_MQ] as const].filter(([, b]) => (bits & b) !== 0).map(([n]) => n);
  return names.length ? names.join(',') : 'none';
}

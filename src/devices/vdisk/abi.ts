/**
 * The virtual-block ABI: one source for the device model and the guest driver.
 *
 * A guest opens the device (DEVOPEN with {@link VDISK_VERSION}), asks for its geometry
 * with DEVCALL {@link VDISK_FN_INFO}, then sets up three regions with DEVSHM:
 *
 *   queue 0  {@link VDISK_Q_REQUEST}   SHM_RING_TO_DEVICE  request descriptors (guest -> device)
 *   queue 1  {@link VDISK_Q_COMPLETE}  SHM_RING_TO_GUEST   completions (device -> guest)
 *   queue 2  {@link VDISK_Q_DATA}      SHM_BUFFER          data the requests point into
 *
 * Data path, in steps:
 *  1. The guest picks a free request id and a range of the data buffer, copies write
 *     data there, reserves a request record, fills it, and may reserve more.
 *  2. It commits them all with one index store and raises the request ring's signal
 *     once (suppressed while the device is already draining).
 *  3. The device copies each descriptor's fields once, validates them (op, alignment,
 *     capacity, the buffer range inside the data region), does the I/O and reserves a
 *     completion record; after the whole batch it commits and raises the guest's
 *     signal once: one notification for many completions.
 *  4. The guest matches each completion to its request by id. Completions may arrive in
 *     any order; a FLUSH or BARRIER orders: requests after it start only after the ones
 *     before it completed, and a completed FLUSH means every write acknowledged before
 *     it was submitted is on the backing store (fdatasync).
 */

/** Interface version the guest passes to DEVOPEN. */
export const VDISK_VERSION = 1;

/** Interface type drivers bind to. */
export const VDISK_INTERFACE = 'virtual-block';

// ---- DEVSHM queue numbers ----
export const VDISK_Q_REQUEST = 0;
export const VDISK_Q_COMPLETE = 1;
export const VDISK_Q_DATA = 2;

// ---- queue pairs (multiqueue) ----
// With VDISK_F_MQ negotiated the guest may set up more queue pairs, each with its own
// request ring, completion ring and data buffer, so several guest threads can each
// drive one pair without a lock. Pair P uses DEVSHM queue numbers P * 3 + 0/1/2 (pair
// 0 is the three queues above). Any pair may carry any request; its completion comes
// back on the pair the request came from; a BARRIER orders only its own pair's requests
// (a FLUSH makes every acknowledged write durable, whichever pair acknowledged it).
/** DEVSHM queues per pair. */
export const VDISK_QUEUES_PER_PAIR = 3;
/** Most queue pairs a device offers (the `queues` attribute's upper bound). */
export const VDISK_MAX_QUEUES = 64;
/** The DEVSHM queue number of `role` (VDISK_Q_REQUEST, _COMPLETE or _DATA) in pair `pair`. */
export function vdiskQueue(pair: number, role: number): number { return pair * VDISK_QUEUES_PER_PAIR + role; }

// ---- DEVCALL functions ----
/** Geometry: replies with an info record (below). */
export const VDISK_FN_INFO = 1;
/**
 * Negotiate: request FEATURES u32 (offered) + QUEUES u32 (pairs wanted, >= 1); reply
 * FEATURES u32 (agreed) + QUEUES u32 (pairs granted). QUEUES granted is min(wanted,
 * the admin's `queues`) when VDISK_F_MQ was offered, else 1; VDISK_F_MQ is agreed when
 * more than one pair was granted. The count is fixed once a ring of pair 1 or above is
 * set up (later calls answer it unchanged).
 */
export const VDISK_FN_NEGOTIATE = 2;
/** Bytes of the negotiate request and reply. */
export const VDISK_NEGOTIATE_BYTES = 8;
export const VDISK_NEG_OFF_FEATURES = 0;
export const VDISK_NEG_OFF_QUEUES = 4;

// ---- feature bits ----
/** Multiqueue: more than one queue pair (capped by the admin's `queues` attribute). */
export const VDISK_F_MQ = 1 << 0;
/** Every feature bit this ABI version defines. */
export const VDISK_F_ALL = VDISK_F_MQ;

// Info reply (DEVCALL VDISK_FN_INFO), little-endian:
//   0              4              8              12             16             20             24
//   +--------------+--------------+--------------+--------------+--------------+--------------+
//   | VERSION u32  | BLOCK u32    | CAP_LO u32   | CAP_HI u32   | FLAGS u32    | (zero)       |
//   +--------------+--------------+--------------+--------------+--------------+--------------+
// CAPACITY = CAP_HI * 2^32 + CAP_LO bytes (a multiple of BLOCK).
export const INFO_OFF_VERSION = 0;
export const INFO_OFF_BLOCK = 4;
export const INFO_OFF_CAP_LO = 8;
export const INFO_OFF_CAP_HI = 12;
export const INFO_OFF_FLAGS = 16;
/** Info reply: VERSION + BLOCK + CAP (u64) + FLAGS + one reserved word. */
export const INFO_BYTES = 24;
/** FLAGS: writes fail with EROFS. */
export const INFO_F_READONLY = 1;
/** FLAGS: the store has a volatile cache, so FLUSH does real work (a file, not memory). */
export const INFO_F_FLUSH = 2;

// ---- request descriptors (one ring record each on queue 0) ----
//   0            4            8            12           16           20           24           28           32
//   +------------+------------+------------+------------+------------+------------+------------+------------+
//   | OP u32     | ID u32     | LEN u32    | BUF u32    | OFF_LO u32 | OFF_HI u32 | FLAGS u32  | (zero)     |
//   +------------+------------+------------+------------+------------+------------+------------+------------+
// ID: chosen by the guest, echoed in the completion. LEN: bytes (a multiple of the block
// size; 0 for FLUSH/BARRIER). BUF: bus-memory offset of the data inside the DATA region.
// OFFSET = OFF_HI * 2^32 + OFF_LO: byte offset on the disk (a multiple of the block size).
export const REQ_OFF_OP = 0;
export const REQ_OFF_ID = 4;
export const REQ_OFF_LEN = 8;
export const REQ_OFF_BUF = 12;
export const REQ_OFF_OFF_LO = 16;
export const REQ_OFF_OFF_HI = 20;
export const REQ_OFF_FLAGS = 24;
/** The reserved word: written as zero. */
export const REQ_OFF_RESERVED = 28;
/** Descriptor: seven u32 fields and one reserved word. */
export const REQ_BYTES = REQ_OFF_RESERVED + 4;

export const VDISK_OP_READ = 1;
export const VDISK_OP_WRITE = 2;
/** Make every write acknowledged before it durable; also a barrier. */
export const VDISK_OP_FLUSH = 3;
/** Order only: requests after it start after the ones before it completed. */
export const VDISK_OP_BARRIER = 4;

// ---- completions (one ring record each on queue 1) ----
//   0            4            8            12           16
//   +------------+------------+------------+------------+
//   | ID u32     | STATUS i32 | LEN u32    | (zero)     |
//   +------------+------------+------------+------------+
// STATUS: 0, or a negative errno (EINVAL: bad descriptor, EROFS: write to a read-only
// disk, EIO: the backing store failed). LEN: bytes transferred.
export const CPL_OFF_ID = 0;
export const CPL_OFF_STATUS = 4;
export const CPL_OFF_LEN = 8;
/** The reserved word: written as zero. */
export const CPL_OFF_RESERVED = 12;
/** Completion: ID + STATUS + LEN + one reserved word. */
export const CPL_BYTES = CPL_OFF_RESERVED + 4;

/** Largest disk offset or capacity (2^53, so a JS number holds it exactly). */
export const VDISK_MAX_BYTES = Number.MAX_SAFE_INTEGER;
/** Block sizes a device may have: powers of two in this range. */
export const VDISK_MIN_BLOCK = 512;
export const VDISK_MAX_BLOCK = 65536;

// Call slot: one per member, in its bus memory. The guest writes a request, the host
// (or a backend worker, for a direct slot) writes the reply into the same slot.
//
//  offset  0            4            8            12           16 ... 63
//          +------------+------------+------------+------------+-----
//  line 0  | MAGIC u32  | VERSION u32| STATE i32  | SEQ u32    | GEN u32 | PARKED i32 | (zero)   STATE is the futex word
//          +------------+------------+------------+------------+-----
//  line 1  | OP u32     | DEVID u32  | HANDLE u32 | FUNC u32   | LEN u32 | ARG0 | ARG1 | ARG2 |   request (guest writes)
//   (64)   +------------+------------+------------+------------+---------+------+------+------+
//  line 2  | RSEQ u32   | STATUS i32 | RLEN u32   | RVAL0      | RVAL1   | RVAL2| RVAL3|          reply (host writes)
//  (128)   +------------+------------+------------+------------+---------+------+------+
//  (192)   | payload: SLOT_PAYLOAD bytes (request payload in, reply payload out) ...
//
// STATE: IDLE -> (guest) REQUEST -> (host claims) BUSY -> (host) DONE -> (guest) IDLE.
// A guest may cancel REQUEST -> IDLE with a compare-exchange before the host claims it.
// DEAD (direct slots only) is final: the backend device behind it is gone.
// STATUS is 0 or a negative errno (Linux numbers, assembly/layout/errno.ts).
// GEN is written by the host when it formats the slot (host-wide counter, never 0) and
// cleared when it retires it; a guest remembers it at attach and refuses (ENODEV) to post
// into a slot whose GEN changed: a handle that outlived its slot never reaches the slot
// that replaced it.
// PARKED is the guest's: non-zero while it parks (or is about to park) on STATE. The
// server notifies STATE only when it reads non-zero there after storing DONE, so a guest
// that caught its reply spinning costs no notify (a Dekker pair: the guest stores PARKED
// then loads STATE, the server stores STATE then loads PARKED, all seq-cst, so at least
// one of them sees the other). A guest that lies about it only delays its own replies;
// a member that clears another member's PARKED (the members of a bus share its memory)
// delays that member's reply by at most PARKED_RECHECK_MS (src/guest/call-client.ts: a
// parked call looks again that often).

export const SLOT_MAGIC = 0x544c5356; // "VSLT"
export const SLOT_VERSION = 1;

export const SLOT_OFF_MAGIC = 0;
export const SLOT_OFF_VERSION = 4;
export const SLOT_OFF_STATE = 8;
export const SLOT_OFF_SEQ = 12;
export const SLOT_OFF_GEN = 16;
export const SLOT_OFF_PARKED = 20;

// The eight request words (line 1), the one vocabulary for them: CALL_* are their byte
// offsets within the request block. The guest writes them at SLOT_OFF_REQUEST + CALL_*;
// the host copies the block out once and the core decodes it into a block of the same
// layout (assembly/decode.ts), which the host reads back at the same CALL_* offsets.
export const CALL_OP = 0;
export const CALL_DEVID = 4;
export const CALL_HANDLE = 8;
export const CALL_FUNC = 12;
export const CALL_LEN = 16;
export const CALL_ARG0 = 20;
export const CALL_ARG1 = 24;
export const CALL_ARG2 = 28;
/** Request words (OP .. ARG2) copied out by the host before decoding: 8 x u32. */
export const SLOT_REQUEST_BYTES = CALL_ARG2 + 4;
export const SLOT_LINE = 64;
export const SLOT_OFF_REQUEST = SLOT_LINE;
export const SLOT_OFF_OP = SLOT_OFF_REQUEST + CALL_OP;
export const SLOT_OFF_DEVID = SLOT_OFF_REQUEST + CALL_DEVID;
export const SLOT_OFF_HANDLE = SLOT_OFF_REQUEST + CALL_HANDLE;
export const SLOT_OFF_FUNC = SLOT_OFF_REQUEST + CALL_FUNC;
export const SLOT_OFF_LEN = SLOT_OFF_REQUEST + CALL_LEN;
export const SLOT_OFF_ARG0 = SLOT_OFF_REQUEST + CALL_ARG0;
export const SLOT_OFF_ARG1 = SLOT_OFF_REQUEST + CALL_ARG1;
export const SLOT_OFF_ARG2 = SLOT_OFF_REQUEST + CALL_ARG2;
export const SLOT_OFF_REPLY = 2 * SLOT_LINE;
export const SLOT_OFF_RSEQ = SLOT_OFF_REPLY;
export const SLOT_OFF_STATUS = SLOT_OFF_REPLY + 4;
export const SLOT_OFF_RLEN = SLOT_OFF_REPLY + 8;
export const SLOT_OFF_RVAL0 = SLOT_OFF_REPLY + 12;
export const SLOT_OFF_RVAL1 = SLOT_OFF_REPLY + 16;
export const SLOT_OFF_RVAL2 = SLOT_OFF_REPLY + 20;
export const SLOT_OFF_RVAL3 = SLOT_OFF_REPLY + 24;
/** Reply values RVAL0..RVAL3. */
export const SLOT_RVALS = 4;

/** Header: three 64-byte lines (state, request, reply); the payload follows. */
export const SLOT_HEADER_BYTES = 3 * SLOT_LINE;
/** Default payload bytes of a call slot (bus option `slotPayload` changes it). */
export const SLOT_DEFAULT_PAYLOAD = 4096;

export const SLOT_IDLE = 0;
export const SLOT_REQUEST = 1;
export const SLOT_BUSY = 2;
export const SLOT_DONE = 3;
/** Tombstone: the connection behind a direct slot is gone; every call answers ENODEV. */
export const SLOT_DEAD = 4;

// Opcodes (the original connector's verbs).
export const OP_DEVOPEN = 1; // DEVID, ARG0 = interface version        -> RVAL0 = handle
export const OP_DEVCLOSE = 2; // HANDLE
export const OP_DEVCALL = 3; // HANDLE, FUNC, LEN + payload          -> STATUS, RLEN + payload
export const OP_DEVSHM = 4; // HANDLE, ARG0 = queue, ARG1 = bytes, ARG2 = kind -> RVAL0 region, RVAL1/2 signals, RVAL3 shm id
export const OP_SHMSIGNAL = 5; // HANDLE, ARG0 = shm id
export const OP_MAX = 5;

// DEVSHM kinds (ARG2).
/** A ring the guest produces into and the device consumes (guest -> device). */
export const SHM_RING_TO_DEVICE = 1;
/** A ring the device produces into and the guest consumes (device -> guest). */
export const SHM_RING_TO_GUEST = 2;
/** A plain buffer for bulk data that ring descriptors point into. */
export const SHM_BUFFER = 3;
export const SHM_KIND_MAX = 3;

// DEVCALL functions from CONN_FUNC_MIN up are the connector's own: the host answers them
// for every device (a model never sees them), always on the member's own call slot.
export const CONN_FUNC_MIN = 0x7fffff00;
/** Reply: RVAL0 = CONN_STATUS_* bits, RVAL1 = fault reason (CONN_FAULT_*), RVAL2 = queue, RVAL3 = resets so far. */
export const CONN_FUNC_STATUS = 0x7fffff01;
/** Re-formats the connection's rings from the host's own record of them and clears its fault. */
export const CONN_FUNC_RESET = 0x7fffff02;
/** Status bit: the connection is faulted and needs a reset (virtio's DEVICE_NEEDS_RESET). */
export const CONN_STATUS_NEEDS_RESET = 1;

// Decode tables: HOST-PRIVATE memory (never a bus memory, never posted to a guest).
// The host copies a request's words out of the bus memory once (SLOT_REQUEST_BYTES at
// REQ), then the core validates them against these tables (assembly/decode.ts).
//
// Device table, one per bus, DT_ENTRIES entries indexed by device id:
//          0            4            8
//          +------------+------------+
//          | GEN u32    | (zero)     |     GEN 0 = no device; bumped on every link
//          +------------+------------+
//
// Handle table, one per member, HT_ENTRIES entries indexed by handle (handle 0 unused):
//          0            4            8            12           16
//          +------------+------------+------------+------------+
//          | DEVID u32  | GEN u32    | OPEN u32   | SHMS u32   |   GEN = device GEN at open
//          +------------+------------+------------+------------+
//
// Decoded result written to OUT: SLOT_REQUEST_BYTES in the layout of the request words
// (CALL_OP .. CALL_ARG2, assembly/layout/callslot.ts), every field validated.

export const DT_ENTRY_BYTES = 8;
export const DT_OFF_GEN = 0;
/** Device ids per bus. */
export const DT_ENTRIES = 256;

export const HT_OFF_DEVID = 0;
export const HT_OFF_GEN = 4;
export const HT_OFF_OPEN = 8;
export const HT_OFF_SHMS = 12;
export const HT_ENTRY_BYTES = HT_OFF_SHMS + 4;
/** Handles per member (handle 0 is never valid). */
export const HT_ENTRIES = 64;
/**
 * Shared regions per connection: room for the largest multiqueue device, 64 queue pairs
 * of three regions (vdisk: requests, completions, data; venet needs two per pair and its
 * EVENT ring). A device keeps only the regions its ABI and negotiated pair count accept,
 * so a guest cannot make the host hold more than that.
 */
export const SHM_PER_HANDLE = 256;

/** Largest queue number a DEVSHM may name. */
export const SHM_QUEUE_MAX = 0xffff;
/** Largest DEVSHM buffer region. */
export const SHM_BUFFER_MAX = 0x10000000; // 256 MiB

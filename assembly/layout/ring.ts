// Ring region layout. One single-producer/single-consumer ring of variable-length
// records. The host places the region at a 64-byte aligned offset of a bus memory.
//
//  offset  0                4                8                12               16 ... 63
//          +----------------+----------------+----------------+----------------+------
//  line 0  | MAGIC u32      | VERSION u32    | CAPACITY u32   | FAULT u32      | (zero)    identity: written at create
//          +----------------+----------------+----------------+----------------+------
//  line 1  | TAIL u32       | RESERVE u32    | CACHED_HEAD u32| (zero)                    producer line: TAIL is published,
//   (64)   +----------------+----------------+----------------+-----------                RESERVE/CACHED_HEAD are the producer's own
//  line 2  | HEAD u32       | READ u32       | CACHED_TAIL u32| (zero)                    consumer line: HEAD is published,
//  (128)   +----------------+----------------+----------------+-----------                READ/CACHED_TAIL are the consumer's own
//  (192)   | data: CAPACITY bytes (a power of two, >= RING_MIN_CAPACITY) ...
//
// TAIL and HEAD are free-running byte counters (u32, wrapping); a position in the data
// area is `index & (CAPACITY - 1)`. The ring holds `TAIL - HEAD` bytes (u32 arithmetic),
// always a multiple of 8 and never more than CAPACITY. Head and tail sit on separate
// 64-byte lines so the two sides do not false-share.
//
// Record (8-byte aligned, never split across the end of the data area):
//
//          0                4                8
//          +----------------+----------------+---------------------------+-----------+
//          | LEN u32        | TAG u32        | payload: LEN bytes        | pad to 8  |
//          +----------------+----------------+---------------------------+-----------+
//
// A record that would run past the end is preceded by a padding record (TAG = RING_PAD_TAG)
// that fills the rest of the data area; consumers skip it.

export const RING_MAGIC = 0x474e5256; // "VRNG" little-endian
export const RING_VERSION = 1;

export const RING_LINE = 64;
export const RING_OFF_MAGIC = 0;
export const RING_OFF_VERSION = 4;
export const RING_OFF_CAPACITY = 8;
export const RING_OFF_FAULT = 12;

export const RING_OFF_TAIL = RING_LINE; // producer line
export const RING_OFF_RESERVE = RING_LINE + 4;
export const RING_OFF_CACHED_HEAD = RING_LINE + 8;

export const RING_OFF_HEAD = 2 * RING_LINE; // consumer line
export const RING_OFF_READ = 2 * RING_LINE + 4;
export const RING_OFF_CACHED_TAIL = 2 * RING_LINE + 8;

/** Bytes before the data area: three 64-byte lines. */
export const RING_HEADER_BYTES = 3 * RING_LINE;

export const REC_OFF_LEN = 0;
export const REC_OFF_TAG = 4;
/** Record header: LEN (u32) + TAG (u32). */
export const REC_HEADER_BYTES = 8;
/** Records start at multiples of this. */
export const REC_ALIGN = 8;
/** TAG of a padding record; user tags must be below it. */
export const RING_PAD_TAG = -1; // 0xffffffff as u32
/** Largest tag a user may put on a record. */
export const RING_MAX_TAG = 0x7fffffff;

export const RING_MIN_CAPACITY = 64;
export const RING_MAX_CAPACITY = 0x40000000; // 1 GiB

/** Region alignment required by the host allocator (a cache line). */
export const REGION_ALIGN = 64;

// Scatter list entry for batched push (ring_push_batch): where each record comes from.
//          0                4                8                12               16
//          +----------------+----------------+----------------+----------------+
//          | PTR u32        | LEN u32        | TAG u32        | (zero)         |
//          +----------------+----------------+----------------+----------------+
export const IOV_OFF_PTR = 0;
export const IOV_OFF_LEN = 4;
export const IOV_OFF_TAG = 8;
export const IOV_BYTES = 16;

/**
 * Layout of the stats region: one SharedArrayBuffer per runtime holding the counters
 * of every observed device and of each of its rings, so any thread (the host, a
 * backend, the control socket, a monitor) reads them without asking the host's event
 * loop. Writers use plain stores; each slot has a single writer (the thread that runs
 * the device's data path), and the host alone assigns slots.
 *
 *  offset 0          4           8             12            16            20 ... 63
 *         +----------+-----------+-------------+-------------+-------------+------
 *  header | MAGIC    | VERSION   | DEV_SLOTS   | RING_SLOTS  | HIST_BUCKETS| (zero)
 *         +----------+-----------+-------------+-------------+-------------+------
 *  64     | device slot 0 (DEV_SLOT_BYTES) | device slot 1 | ... DEV_SLOTS
 *         | ring slot 0 (RING_SLOT_BYTES)  | ring slot 1   | ... RING_SLOTS
 *
 *  device slot   0 GEN u32 | 4 NAME_LEN u32 | 8 NAME (NAME_BYTES, UTF-8)
 *                64 counters, f64 each (DEV_* indices below), then HIST_BUCKETS f64
 *  ring slot     0 GEN u32 | 4 DEV_SLOT+1 u32 (0: free) | 8 MEMBER u32 | 12 QUEUE u32
 *                16 DIRECTION u32 (0 to-device, 1 to-guest) | 20 CAPACITY u32
 *                24 BUS_LEN u32 | 28 BUS name (NAME_BYTES) | 64 counters, f64 each (RING_*)
 *
 * GEN is a sequence word: odd while the host (re)assigns the slot's identity, even
 * when stable; a reader that sees it change (or odd) across its read retries. Counters
 * are f64 so they count past 2^32 without wrapping; an aligned f64 load or store is a
 * single 8-byte access on the platforms V8 supports, so a reader never sees half a value.
 */

export const STATS_MAGIC = 0x41545356; // "VSTA" little-endian
export const STATS_VERSION = 1;

export const HDR_OFF_MAGIC = 0;
export const HDR_OFF_VERSION = 4;
export const HDR_OFF_DEV_SLOTS = 8;
export const HDR_OFF_RING_SLOTS = 12;
export const HDR_OFF_HIST_BUCKETS = 16;
export const HEADER_BYTES = 64;

/** Longest device or bus name stored (UTF-8 bytes; longer names are cut). */
export const NAME_BYTES = 36;
export const SLOT_OFF_GEN = 0;
export const DEV_OFF_NAME_LEN = 4;
export const DEV_OFF_NAME = 8;
export const COUNTERS_OFF = 64;

/** Device counters (f64 index from the slot's COUNTERS_OFF). */
export const DEV_CALLS = 0;
export const DEV_CALL_BYTES_IN = 1;
export const DEV_CALL_BYTES_OUT = 2;
export const DEV_CALL_ERRORS = 3;
export const DEV_POLLS = 4;
export const DEV_RECORDS = 5;
export const DEV_DROPS = 6;
export const DEV_FAULTS = 7;
/** Calls whose latency was sampled, and the sum of their latencies in microseconds. */
export const DEV_LAT_SAMPLES = 8;
export const DEV_LAT_SUM_US = 9;
export const DEV_COUNTERS = 10;
export const DEV_COUNTER_NAMES = ['calls', 'callBytesIn', 'callBytesOut', 'callErrors', 'polls', 'records', 'drops', 'faults', 'latencySamples', 'latencySumUs'] as const;

/** Call-latency histogram: bucket k counts latencies below 2^k microseconds (the last one: the rest). */
export const HIST_BUCKETS = 16;
export const DEV_SLOT_BYTES = COUNTERS_OFF + (DEV_COUNTERS + HIST_BUCKETS) * 8;

export const RING_OFF_DEV = 4;
export const RING_OFF_MEMBER = 8;
export const RING_OFF_QUEUE = 12;
export const RING_OFF_DIRECTION = 16;
export const RING_OFF_CAPACITY = 20;
export const RING_OFF_BUS_LEN = 24;
export const RING_OFF_BUS = 28;

/** Ring counters (f64 index from the slot's COUNTERS_OFF). */
export const RING_BYTES = 0;
export const RING_RAISED = 1;
export const RING_SUPPRESSED = 2;
export const RING_HIGH_WATER = 3;
export const RING_USED = 4;
export const RING_FAULTS = 5;
export const RING_WAKEUPS = 6;
export const RING_COUNTERS = 7;
export const RING_COUNTER_NAMES = ['bytes', 'raised', 'suppressed', 'highWater', 'used', 'faults', 'wakeups'] as const;
export const RING_SLOT_BYTES = COUNTERS_OFF + RING_COUNTERS * 8;

export const DIR_TO_DEVICE = 0;
export const DIR_TO_GUEST = 1;

/** Bytes of a region with the given slot counts. */
export function statsRegionBytes(devSlots: number, ringSlots: number): number {
  return HEADER_BYTES + devSlots * DEV_SLOT_BYTES + ringSlots * RING_SLOT_BYTES;
}

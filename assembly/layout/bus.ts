// Bus memory header: the first line of every bus memory.
//
//  offset  0            4            8            12           16 ... 63
//          +------------+------------+------------+------------+-----
//          | MAGIC u32  | VERSION u32| BYTES u32  | BUS_ID u32 | (zero)
//          +------------+------------+------------+------------+-----
//
// Regions (rings, signals, call slots) are placed by the host from BUS_FIRST_REGION
// upward, each REGION_ALIGN-aligned. The host keeps the authoritative list of regions
// in its own (private) memory; this header only lets a guest check that the memory it
// was handed is a bus memory of a compatible version.

export const BUS_MAGIC = 0x53554256; // "VBUS"
export const BUS_VERSION = 1;
export const BUS_OFF_MAGIC = 0;
export const BUS_OFF_VERSION = 4;
export const BUS_OFF_BYTES = 8;
export const BUS_OFF_ID = 12;
export const BUS_HEADER_BYTES = 64;
export const BUS_FIRST_REGION = BUS_HEADER_BYTES;

/** WebAssembly page size. */
export const WASM_PAGE = 65536;
/** The core module's declared maximum (asconfig.json maximumMemory, in pages). */
export const CORE_MAX_PAGES = 16384;

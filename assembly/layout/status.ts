// Status codes returned by every core operation.
//
// Convention: a core operation returns an i32. A value >= 0 is success and means
// what that operation documents (a length, an offset, a count). A negative value is
// one of the statuses below. Hot paths never trap and never throw; the TypeScript
// layer turns misuse (TOO_BIG, BAD_ARG) into a typed error and everything else into
// a returned status.

/** Nothing to read: the ring is empty (pop, peek). */
export const ST_EMPTY = -1;
/** No room now: the ring is full, try again after the consumer releases (push, reserve). */
export const ST_FULL = -2;
/** The ring's shared state is inconsistent (a hostile or buggy peer). Sticky until reset. */
export const ST_FAULT = -3;
/** The record can never fit this ring (payload > capacity - record header). */
export const ST_TOO_BIG = -4;
/** The caller's destination buffer is too small for the next record; nothing was consumed. */
export const ST_NOSPACE = -5;
/** A region's magic or version word does not match (attach). */
export const ST_BAD_MAGIC = -6;
/** An argument is out of range (capacity not a power of two, offset not aligned, ...). */
export const ST_BAD_ARG = -7;

// Fault reasons, written into a ring's FAULT word so both sides can read why it failed.
export const FAULT_NONE = 0;
/** Producer index minus consumer index is larger than the capacity or not 8-aligned. */
export const FAULT_INDEX = 1;
/** A record header claims a length that runs past the published data or the ring end. */
export const FAULT_RECORD = 2;
/**
 * The region's magic or capacity word does not match (overwritten, or the ring was destroyed).
 * Recognised by each end itself; the core never writes it into a region that fails that check.
 */
export const FAULT_HEADER = 3;
/** The producer's private cursor is inconsistent with its published index. */
export const FAULT_CURSOR = 4;
/**
 * Never written by the core: what an end records when the FAULT word holds a value that
 * is none of the reasons above (a peer overwrote it), so no message is built from it.
 */
export const FAULT_MARKED = 5;

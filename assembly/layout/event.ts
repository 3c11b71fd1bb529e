// Events from the host to one member, carried as records on the member's event ring
// (a ring in the bus memory, host produces, guest consumes; the record TAG is the
// event type). Payload layouts, all u32 little-endian:
//
//  DEVADD    | DEVID | IFACE_LEN | iface name bytes (UTF-8) ...
//  DEVDROP   | DEVID |
//  DEVEVENT  | DEVID | HANDLE | CODE | ARG |        device-specific, e.g. link up/down
//  SHUTDOWN  (no payload): the host is tearing the member down
//  RESYNC_BEGIN / RESYNC_END (no payload): the member's queued events overflowed and were
//            replaced by a snapshot: a DEVADD for every device on the bus now, between the
//            two markers. The guest probes the ones it did not know and removes the ones
//            the snapshot no longer lists. Device events (DEVEVENT) of the gap are lost.
//  DEVFAULT  | DEVID | HANDLE | REASON | QUEUE |   the connection needs a reset (virtio's NEEDS_RESET):
//            REASON is one of CONN_FAULT_* below (the guest names it from its own table),
//            QUEUE the queue number of the ring found corrupt (0xffffffff: none in particular)
//  DEVRESET  | DEVID | HANDLE | 0 | RESETS |         the connection's rings were re-formatted by the
//            host (the guest's reset call or the admin's bus reset); RESETS counts resets so far

export const EV_DEVADD = 1;
export const EV_DEVDROP = 2;
export const EV_DEVEVENT = 3;
export const EV_SHUTDOWN = 4;
export const EV_RESYNC_BEGIN = 5;
export const EV_RESYNC_END = 6;
export const EV_DEVFAULT = 7;
export const EV_DEVRESET = 8;

// Why a connection needs a reset (DEVFAULT's REASON; the host's own finding, never a
// number copied from guest-writable memory).
export const CONN_FAULT_NONE = 0;
/** A ring's magic or capacity word was overwritten. */
export const CONN_FAULT_RING_HEADER = 1;
/** A ring's published indices are more than its capacity apart (or unaligned). */
export const CONN_FAULT_RING_INDEX = 2;
/** A record header runs past the published data or the ring's end. */
export const CONN_FAULT_RING_RECORD = 3;
/** A private cursor of a ring is inconsistent with its published index. */
export const CONN_FAULT_RING_CURSOR = 4;
/** A ring's fault word was set to something that is no reason (overwritten). */
export const CONN_FAULT_RING_MARKED = 5;
/** The device model stopped the connection after finding one of its rings corrupt. */
export const CONN_FAULT_DEVICE = 6;
/** One past the last reason. */
export const CONN_FAULT_COUNT = 7;
/** DEVFAULT's QUEUE when no particular ring is named. */
export const CONN_FAULT_NO_QUEUE = -1;

// Field offsets, per record type (the host writes and the guest reads at these).
export const EV_ADD_OFF_DEVID = 0;
export const EV_ADD_OFF_IFACE_LEN = 4;
export const EV_ADD_OFF_IFACE = 8;
/** DEVADD's fixed part; the name's IFACE_LEN bytes follow. */
export const EV_ADD_BYTES = EV_ADD_OFF_IFACE;
export const EV_DROP_OFF_DEVID = 0;
export const EV_DROP_BYTES = EV_DROP_OFF_DEVID + 4;
export const EV_DEV_OFF_DEVID = 0;
export const EV_DEV_OFF_HANDLE = 4;
export const EV_DEV_OFF_CODE = 8;
export const EV_DEV_OFF_ARG = 12;
export const EV_DEV_BYTES = EV_DEV_OFF_ARG + 4;
/** Longest interface name carried by DEVADD. */
export const EV_IFACE_MAX = 64;
/** Largest event record payload: a DEVADD with the longest name. */
export const EV_RECORD_MAX = EV_ADD_BYTES + EV_IFACE_MAX;
/** Default event ring capacity in bytes. */
export const EV_RING_BYTES = 4096;

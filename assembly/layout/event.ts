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

export const EV_DEVADD = 1;
export const EV_DEVDROP = 2;
export const EV_DEVEVENT = 3;
export const EV_SHUTDOWN = 4;
export const EV_RESYNC_BEGIN = 5;
export const EV_RESYNC_END = 6;

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

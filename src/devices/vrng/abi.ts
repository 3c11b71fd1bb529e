/**
 * The virtual-entropy ABI: one source for the device model (model.ts) and the guest
 * driver (driver.ts). Entropy travels only through the requesting member's call slot,
 * which lies in its own bus memory: the device generates it on request, per bus, and
 * keeps no pool another bus could draw from.
 *
 * DEVCALL functions (little-endian):
 *
 *   FUNC_GET_ENTROPY  payload: u32 n (bytes wanted)
 *                     reply:   k random bytes, 0 <= k <= min(n, slot payload, quota left);
 *                              -EAGAIN when the bus's quota allows nothing right now
 *                              (n > 0); -EINVAL for a payload shorter than 4 bytes
 *   FUNC_INFO         reply: INFO layout below
 */

/** Interface type the driver binds to. */
export const ENTROPY_INTERFACE = 'virtual-entropy';
/** Interface version a guest passes to DEVOPEN. */
export const ENTROPY_VERSION = 1;

export const FUNC_GET_ENTROPY = 1;
export const FUNC_INFO = 2;

/**
 * GET_ENTROPY request:
 *
 *   0        4
 *   +--------+
 *   |   n    |  u32 bytes wanted
 *   +--------+
 */
export const REQ_OFF_N = 0;
export const REQ_BYTES = 4;

/**
 * INFO reply:
 *
 *   0        4        8         12
 *   +--------+--------+---------+
 *   |version | quota  | per call|
 *   +--------+--------+---------+
 *   version   u32 ENTROPY_VERSION
 *   quota     u32 bytes per second for this bus (0 = unlimited)
 *   per call  u32 most bytes one GET_ENTROPY returns
 */
export const INFO_OFF_VERSION = 0;
export const INFO_OFF_QUOTA = 4;
export const INFO_OFF_PER_CALL = 8;
export const INFO_BYTES = 12;

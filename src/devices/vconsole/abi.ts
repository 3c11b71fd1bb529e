/**
 * The virtual-console ABI: one source for the device model (model.ts) and the guest
 * driver (driver.ts).
 *
 * A console is two byte streams, each carried by one SPSC ring set up with DEVSHM:
 *
 *   queue QUEUE_OUTPUT  guest -> device (SHM_RING_TO_DEVICE): what the guest writes
 *   queue QUEUE_INPUT   device -> guest (SHM_RING_TO_GUEST):  what the endpoint sent
 *
 * Each ring record is one chunk of the stream; the record tag says what it is:
 *
 *   TAG_DATA  payload = 1..maxChunk bytes of the stream, in order
 *   TAG_EOF   payload empty; input only: the endpoint ended (peer closed, end of file)
 *
 * Order is the ring's order, and nothing is dropped for lack of room: a full input
 * ring pauses the endpoint until the guest frees space (its space signal wakes the
 * device), and a slow endpoint leaves records in the output ring, so the guest's
 * writes wait for space. Records with another tag, or an empty DATA record, are
 * counted as drops and skipped.
 *
 * DEVCALL functions (payload and reply little-endian):
 *
 *   FUNC_INFO  -> INFO reply, see the diagram below
 */

/** Interface type the driver binds to. */
export const CONSOLE_INTERFACE = 'virtual-console';
/** Interface version a guest passes to DEVOPEN. */
export const CONSOLE_VERSION = 1;

/** Guest -> device stream. */
export const QUEUE_OUTPUT = 0;
/** Device -> guest stream. */
export const QUEUE_INPUT = 1;

/** Record tag: stream bytes. */
export const TAG_DATA = 0;
/** Record tag: the endpoint ended (input ring only; no payload). */
export const TAG_EOF = 1;

/** DEVCALL: what the device accepts (see INFO layout). */
export const FUNC_INFO = 1;

/**
 * INFO reply:
 *
 *   0       4            8
 *   +-------+------------+
 *   |version| max chunk  |
 *   +-------+------------+
 *   version    u32  CONSOLE_VERSION
 *   max chunk  u32  largest input record the device will produce (bytes)
 */
export const INFO_OFF_VERSION = 0;
export const INFO_OFF_MAX_CHUNK = 4;
export const INFO_BYTES = 8;

/** Largest chunk the device puts in one input record (smaller if the guest's ring is smaller). */
export const DEVICE_MAX_CHUNK = 16384;

/** Default ring capacities the driver asks for (bytes, powers of two). */
export const DEFAULT_OUTPUT_RING = 65536;
export const DEFAULT_INPUT_RING = 65536;

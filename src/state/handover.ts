/**
 * Handing a large byte array to the device that loads it, instead of the device copying
 * it: a migration's target receives a memory disk's pages straight into a buffer of the
 * disk's size (src/migrate/target.ts) and gives that buffer up, so the load at the stop
 * does not copy 16 MiB again. Only a buffer marked here is adopted, and only once; any
 * other byte field (a decoded file's, a caller's own) is copied as before, so a caller
 * never finds its bytes shared with a device by surprise.
 */
const given = new WeakSet<SharedArrayBuffer>();

/** Marks `bytes` (a view of a whole SharedArrayBuffer) as given up by its holder, who must not touch it again. */
export function handOver(bytes: Uint8Array): void {
  if (bytes.buffer instanceof SharedArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) given.add(bytes.buffer);
}

/** The buffer behind `bytes` if it was handed over (and no longer is: one taker), else null. */
export function takeOver(bytes: Uint8Array): SharedArrayBuffer | null {
  const b = bytes.buffer;
  if (!(b instanceof SharedArrayBuffer) || !given.has(b)) return null;
  given.delete(b);
  return b;
}

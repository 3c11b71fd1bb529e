/**
 * Copying one frame from one bus memory into another (a switch port to a switch port),
 * the one copy a frame takes on its way through a venet device.
 *
 * `dst.set(src.subarray(at, at + len), to)` makes a view object per frame, and with
 * 64-byte frames that allocation costs more than the copy (about 150 ns against 60 ns
 * for the bytes themselves, both memories shared, on the 2-vCPU bench machine). Small
 * frames are therefore copied word by word through the memories' Int32Array views;
 * larger ones keep set(), where the view is paid once for many bytes.
 *
 * Exactly `len` bytes are written: whole words, then the 0-3 bytes left one by one (never
 * the padding after the frame: it holds whatever the sender's ring held there before,
 * which the receiver must not see).
 */

/** Frames up to this many bytes are copied by words. */
export const WORD_COPY_MAX = 256;

/** A bus memory's byte and word views (BusMemory has both). */
export interface FrameMemory {
  readonly u8: Uint8Array;
  readonly i32: Int32Array;
}

/**
 * Copies `src.u8[at .. at+len)` to `dst.u8[to ..)`. `src` may be bytes without a word view
 * (a socket's buffer): then set() is used. The caller has bounded both ranges (the ring
 * core placed both records inside their rings).
 */
export function copyFrame(src: Uint8Array, srcWords: Int32Array | null, at: number, dst: FrameMemory, to: number, len: number): void {
  if (srcWords === null || len > WORD_COPY_MAX || ((at | to) & 3) !== 0) {
    dst.u8.set(src.subarray(at, at + len), to);
    return;
  }
  const words = dst.i32;
  let s = at >> 2;
  let d = to >> 2;
  const end = s + (len >> 2);
  while (s < end) words[d++] = srcWords[s++]!;
  const u8 = dst.u8;
  for (let k = len & ~3; k < len; k++) u8[to + k] = src[at + k]!;
}

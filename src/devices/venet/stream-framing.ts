/**
 * QEMU's `-netdev stream` framing: each Ethernet frame on the byte stream is preceded by
 * its length as a 4-byte big-endian integer.
 *
 *   0                4
 *   +----------------+---------------------------+
 *   | LEN u32 (BE)   | LEN bytes of frame ...    |  then the next frame
 *   +----------------+---------------------------+
 *
 * Platform-neutral: the Node transport feeds socket chunks into a
 * {@link StreamFrameDecoder}, and unit tests feed it arbitrary splits.
 */

/** Bytes of the length prefix. */
export const STREAM_PREFIX_BYTES = 4;

/** Writes the prefix for a `len`-byte frame at `out[at..at+4)`. */
export function writeStreamPrefix(out: Uint8Array, at: number, len: number): void {
  out[at] = (len >>> 24) & 0xff;
  out[at + 1] = (len >>> 16) & 0xff;
  out[at + 2] = (len >>> 8) & 0xff;
  out[at + 3] = len & 0xff;
}

/** Called for each complete frame: `data[at .. at+len)`, valid only during the call. */
export type StreamFrameSink = (data: Uint8Array, at: number, len: number) => void;

/**
 * Reassembles frames from stream chunks split anywhere. Frames lying whole inside a
 * chunk are handed out in place (no copy); only a frame cut by a chunk boundary is
 * gathered into a buffer. A length above `maxFrame` means the peer does not speak this
 * framing (or is hostile): {@link push} returns false and the decoder stays broken, so
 * the caller drops the connection.
 */
export class StreamFrameDecoder {
  private readonly head = new Uint8Array(STREAM_PREFIX_BYTES);
  private headFill = 0;
  private body: Uint8Array | null = null;
  private bodyFill = 0;
  private broken = false;

  constructor(private readonly maxFrame: number) {}

  /** True once a length above `maxFrame` was seen. */
  get isBroken(): boolean { return this.broken; }

  /** Feeds one chunk; calls `sink` per complete frame. False if the stream is broken. */
  push(chunk: Uint8Array, sink: StreamFrameSink): boolean {
    if (this.broken) return false;
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.body !== null) {
        // Finishing a frame cut by an earlier chunk boundary.
        const take = Math.min(this.body.length - this.bodyFill, n - i);
        this.body.set(chunk.subarray(i, i + take), this.bodyFill);
        this.bodyFill += take;
        i += take;
        if (this.bodyFill === this.body.length) {
          const b = this.body;
          this.body = null;
          sink(b, 0, b.length);
        }
        continue;
      }
      let len: number;
      if (this.headFill === 0 && n - i >= STREAM_PREFIX_BYTES) {
        len = ((chunk[i]! << 24) | (chunk[i + 1]! << 16) | (chunk[i + 2]! << 8) | chunk[i + 3]!) >>> 0;
        i += STREAM_PREFIX_BYTES;
      } else {
        // A prefix cut by a chunk boundary.
        while (this.headFill < STREAM_PREFIX_BYTES && i < n) this.head[this.headFill++] = chunk[i++]!;
        if (this.headFill < STREAM_PREFIX_BYTES) break;
        const h = this.head;
        len = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
        this.headFill = 0;
      }
      if (len > this.maxFrame) { this.broken = true; return false; }
      if (n - i >= len) {
        sink(chunk, i, len); // whole frame inside this chunk: no copy
        i += len;
      } else {
        this.body = new Uint8Array(len);
        this.bodyFill = 0;
      }
    }
    return true;
  }

  /** Bytes of an unfinished frame (prefix included) held back; 0 between frames. */
  get pending(): number { return this.headFill + (this.body ? STREAM_PREFIX_BYTES + this.bodyFill : 0); }
}

/**
 * Backing stores of a vdisk. The model only ever calls a {@link BlockStore}: bytes at
 * an offset, in and out of a view of bus memory. Stores are synchronous in both
 * placements (a page-cache read or write is a few microseconds; an fdatasync is the
 * slow one), so the device completes requests in the order it takes them; the ABI and
 * the driver still allow any order.
 *
 * {@link MemoryStore} is platform-neutral (a browser, or an empty `src_path`). The Node
 * file store lives in src/platform/node-vdisk-file.ts and is reached through
 * store-registry.ts.
 */
import { ERRNO, vbusError } from '../../errors.js';
import { sharedOrPrivateBuffer } from '../../platform/shared-memory.js';

/** Where a vdisk's blocks live. Offsets and lengths are validated by the caller. */
export interface BlockStore {
  /** Usable bytes (the disk's capacity). */
  readonly size: number;
  /** True when `flush` makes data durable (a file); false for memory. */
  readonly volatileCache: boolean;
  /** Copies `dst.length` bytes at `offset` into `dst`. Returns the bytes read or a negative errno. */
  read(offset: number, dst: Uint8Array): number;
  /** Copies `src` to `offset`. Returns the bytes written or a negative errno. */
  write(offset: number, src: Uint8Array): number;
  /** Makes every completed write durable. Returns 0 or a negative errno. */
  flush(): number;
  /**
   * Optional: the same, without blocking the calling thread (an fdatasync can take
   * milliseconds on a real disk); calls `done(0 | -errno)` later, never synchronously.
   * The host-thread model uses it so a flush does not stall the host's event loop.
   */
  flushAsync?(done: (status: number) => void): void;
  /** Lets go of the backing (closes a file). Idempotent. */
  close(): void;
}

/** Largest memory backing (bytes): a SharedArrayBuffer is one allocation. */
export const MEMORY_STORE_MAX = 1 << 30;

/**
 * A disk in memory. Its bytes may be a SharedArrayBuffer so that the host thread and
 * backend workers serve one disk (the buffer is passed in the backend's start data).
 */
export class MemoryStore implements BlockStore {
  readonly size: number;
  readonly volatileCache = false;
  private bytes: Uint8Array | null;

  constructor(backing: SharedArrayBuffer | ArrayBuffer) {
    this.bytes = new Uint8Array(backing);
    this.size = backing.byteLength;
  }

  /** Allocates a zeroed shared backing of `size` bytes. EINVAL beyond {@link MEMORY_STORE_MAX}. */
  static allocate(size: number): SharedArrayBuffer {
    if (!Number.isSafeInteger(size) || size <= 0 || size > MEMORY_STORE_MAX) {
      throw vbusError('EINVAL', `memory-backed vdisk capacity ${size} must be between 1 and ${MEMORY_STORE_MAX} bytes`, { capacity: size });
    }
    return sharedOrPrivateBuffer(size);
  }

  read(offset: number, dst: Uint8Array): number {
    const b = this.bytes;
    if (!b) return -ERRNO.EIO;
    dst.set(b.subarray(offset, offset + dst.length));
    return dst.length;
  }

  write(offset: number, src: Uint8Array): number {
    const b = this.bytes;
    if (!b) return -ERRNO.EIO;
    b.set(src, offset);
    return src.length;
  }

  flush(): number { return this.bytes ? 0 : -ERRNO.EIO; }

  close(): void { this.bytes = null; }
}

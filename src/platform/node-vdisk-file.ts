/**
 * File-backed vdisk stores on Node (`node:fs`, synchronous calls: pread/pwrite into bus
 * memory directly, fdatasync for FLUSH). Installed by src/index.ts, and inside backend
 * workers by node-vdisk-backend.ts.
 */
import { closeSync, constants, fdatasync, fdatasyncSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { ERRNO, vbusError, type ErrnoCode } from '../errors.js';
import type { BlockStore } from '../devices/vdisk/store.js';
import type { FileStoreRequest, VdiskFilePlatform } from '../devices/vdisk/store-registry.js';

/** A negative errno for an fs error, EIO when it has no code we know. */
function errnoOf(e: unknown): number {
  const code = (e as { code?: string })?.code;
  return code && code in ERRNO ? -ERRNO[code as ErrnoCode] : -ERRNO.EIO;
}

export class FileStore implements BlockStore {
  readonly volatileCache = true;
  private fd: number;

  private constructor(fd: number, readonly size: number, readonly path: string) {
    this.fd = fd;
  }

  /**
   * Opens `req.path`: read-only, or read-write (created if missing). A writable file
   * shorter than `req.capacity` is extended (sparse); capacity 0 means the file's size.
   * Throws VbusError naming the path; nothing is left open on failure.
   */
  static open(req: FileStoreRequest): FileStore {
    const { path, capacity, readonly, blockSize } = req;
    let fd: number;
    try {
      fd = readonly ? openSync(path, constants.O_RDONLY) : openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644);
    } catch (e) {
      throw fsError(e, `vdisk: cannot open ${path}${readonly ? ' read-only' : ''}`, path);
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile() && !st.isBlockDevice()) throw vbusError('EINVAL', `vdisk: ${path} is not a regular file`, { path });
      const have = st.size;
      let size = capacity > 0 ? capacity : have - (have % blockSize);
      if (size === 0) throw vbusError('EINVAL', `vdisk: ${path} is empty and capacity is 0; set capacity to create the disk`, { path });
      if (capacity > have) {
        if (readonly) throw vbusError('EINVAL', `vdisk: capacity ${capacity} is larger than the read-only file ${path} (${have} bytes)`, { path, capacity, size: have });
        try { ftruncateSync(fd, capacity); } catch (e) { throw fsError(e, `vdisk: cannot extend ${path} to ${capacity} bytes`, path); }
        size = capacity;
      }
      return new FileStore(fd, size, path);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  read(offset: number, dst: Uint8Array): number {
    try {
      let got = 0;
      while (got < dst.length) {
        const n = readSync(this.fd, dst, got, dst.length - got, offset + got);
        if (n === 0) { dst.fill(0, got); break; } // past the end of a file someone truncated: reads as zeros
        got += n;
      }
      return dst.length;
    } catch (e) {
      return errnoOf(e);
    }
  }

  write(offset: number, src: Uint8Array): number {
    try {
      let put = 0;
      while (put < src.length) put += writeSync(this.fd, src, put, src.length - put, offset + put);
      return src.length;
    } catch (e) {
      return errnoOf(e);
    }
  }

  flush(): number {
    try { fdatasyncSync(this.fd); return 0; } catch (e) { return errnoOf(e); }
  }

  flushAsync(done: (status: number) => void): void {
    if (this.fd < 0) { queueMicrotask(() => done(-ERRNO.EIO)); return; }
    fdatasync(this.fd, (e) => done(e ? errnoOf(e) : 0)); // on libuv's thread pool
  }

  close(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    try { closeSync(fd); } catch { /* already gone */ }
  }
}

function fsError(e: unknown, what: string, path: string) {
  const errno = -errnoOf(e);
  const code = (Object.entries(ERRNO).find(([, v]) => v === errno)?.[0] ?? 'EIO') as ErrnoCode;
  return vbusError(code, `${what}: ${(e as Error)?.message ?? String(e)}`, { path });
}

/** The Node file platform for vdisks. */
export const nodeVdiskFiles: VdiskFilePlatform = {
  open: (req) => FileStore.open(req),
  backendModelUrl: new URL('./node-vdisk-backend.js', import.meta.url).href,
};

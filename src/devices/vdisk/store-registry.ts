/**
 * Where file-backed stores come from. The platform-neutral model asks this registry; the
 * Node entry (src/index.ts) installs src/platform/node-vdisk-file.ts, and a backend
 * worker installs it through src/platform/node-vdisk-backend.ts. A browser installs
 * nothing, so a vdisk with a `src_path` there fails with ENOTSUP (memory disks work).
 */
import { vbusError } from '../../errors.js';
import type { BlockStore } from './store.js';

/** How a file store is asked for. */
export interface FileStoreRequest {
  path: string;
  /** Wanted bytes; 0 = the file's size (rounded down to the block size). A larger value extends a writable file. */
  capacity: number;
  readonly: boolean;
  blockSize: number;
}

/** What a platform offers for file-backed disks. */
export interface VdiskFilePlatform {
  /** Opens (creating or extending a writable file as needed) and returns the store. Throws VbusError. */
  open(req: FileStoreRequest): BlockStore;
  /** ES module a backend worker imports to get a model with file stores (exports `createVdiskBackendModel`). */
  readonly backendModelUrl: string;
}

let files: VdiskFilePlatform | undefined;

/** Installs the file platform (the Node entry does this). */
export function installVdiskFiles(p: VdiskFilePlatform): void { files = p; }

/** The installed file platform; ENOTSUP where there is no file system. */
export function vdiskFiles(): VdiskFilePlatform {
  if (!files) {
    throw vbusError('ENOTSUP', 'vdisk: this platform has no file system for src_path; leave src_path empty and set capacity for a memory-backed disk');
  }
  return files;
}

/**
 * Snapshots as files, on Node (the control socket's `save` and `vbus run --restore`
 * use these; the browser entry does not reach this module). A file is written to a
 * temporary name and renamed, so a reader never sees half a snapshot.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { vbusError } from '../errors.js';
import type { VbusHost } from '../host/host.js';
import { saveBuses, type SaveOptions } from './save.js';
import { restoreBuses, type RestoreResult } from './restore.js';

/** Saves `buses` to `file`; returns the bytes written. */
export async function saveSnapshotFile(host: VbusHost, buses: readonly string[], file: string, opts: SaveOptions = {}): Promise<number> {
  const bytes = await saveBuses(host, buses, opts);
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, file);
  } catch (e) {
    throw vbusError('EIO', `cannot write snapshot ${file}: ${(e as Error).message}`, { file });
  }
  return bytes.length;
}

/** The bytes of snapshot `file` (ENOENT if it does not exist). */
export function readSnapshotFile(file: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file));
  } catch (e) {
    const code = (e as { code?: string }).code === 'ENOENT' ? 'ENOENT' : 'EIO';
    throw vbusError(code, `cannot read snapshot ${file}: ${(e as Error).message}`, { file });
  }
}

/** Restores the snapshot in `file` into `host`. */
export function restoreSnapshotFile(host: VbusHost, file: string): RestoreResult {
  return restoreBuses(host, readSnapshotFile(file), file);
}

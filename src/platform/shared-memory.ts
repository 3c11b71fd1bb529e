/**
 * Can this thread use shared memory? Environment-neutral checks (no Node imports), used
 * by both platform implementations and by BusMemory before it creates a shared memory.
 *
 * A browser hides SharedArrayBuffer unless the page is cross-origin isolated, which the
 * server decides with two response headers. Without this check the first symptom is
 * "SharedArrayBuffer is not defined" deep inside the runtime; with it, the error says
 * which headers to send.
 */
import { vbusError } from '../errors.js';

/** The response headers that make a page cross-origin isolated, as a server must send them. */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
} as const;

/** True when running on Node (or a runtime that presents itself as Node). */
export function isNodeRuntime(): boolean {
  return typeof process !== 'undefined' && typeof process.versions === 'object' && typeof process.versions.node === 'string';
}

/**
 * True when this thread may use SharedArrayBuffer. Node always may; a browser page (and
 * its workers) only when served with {@link ISOLATION_HEADERS}.
 */
export function isCrossOriginIsolated(): boolean {
  if (isNodeRuntime()) return typeof SharedArrayBuffer !== 'undefined';
  return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true && typeof SharedArrayBuffer !== 'undefined';
}

/**
 * A buffer for host-side counters and stores that a backend worker may map: shared where
 * this thread has SharedArrayBuffer, else a private ArrayBuffer (a page without
 * cross-origin isolation runs its buses on the message transport and has no backend
 * workers, the only other readers). Atomics work on both.
 */
export function sharedOrPrivateBuffer(bytes: number): SharedArrayBuffer {
  return (typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes)) as SharedArrayBuffer;
}

/** Options for {@link checkSharedMemory}. */
export interface SharedMemoryNeeds {
  /** Also require Atomics.waitAsync (a host on a browser main thread may not block). Default false. */
  waitAsync?: boolean;
}

/**
 * Throws ENOTSUP, naming exactly what is missing, unless this thread can create and
 * share bus memories: SharedArrayBuffer (cross-origin isolation in a browser), Atomics,
 * and optionally Atomics.waitAsync.
 */
export function checkSharedMemory(needs: SharedMemoryNeeds = {}): void {
  if (!isCrossOriginIsolated()) {
    const headers = Object.entries(ISOLATION_HEADERS).map(([k, v]) => `${k}: ${v}`);
    throw vbusError('ENOTSUP',
      `shared memory is unavailable: this page is not cross-origin isolated, so the browser hides SharedArrayBuffer. ` +
      `Serve the page with the response headers "${headers[0]}" and "${headers[1]}" ` +
      `(and every resource it loads from the same origin, or with Cross-Origin-Resource-Policy).`,
      { missingHeaders: headers, crossOriginIsolated: false });
  }
  if (typeof Atomics === 'undefined') {
    throw vbusError('ENOTSUP', 'Atomics is not available in this JavaScript engine; vbus needs it to share rings between threads');
  }
  if (needs.waitAsync && typeof Atomics.waitAsync !== 'function') {
    throw vbusError('ENOTSUP', 'Atomics.waitAsync is not available in this JavaScript engine; a host on a thread that may not block (a page\'s main thread) needs it. Use a browser that implements it (current Chromium and Safari do)',
      { missing: 'Atomics.waitAsync' });
  }
}

/**
 * Where backends run. The Node entry point installs the backend pool (pool.ts) with the
 * Node thread entry (src/platform/node-backend.ts); browsers have none, and asking for
 * backend placement there fails with ENOTSUP and says to use host placement.
 */
import { vbusError } from '../../errors.js';
import type { BackendReport, BackendStart, BackendControl, BackendNotice } from './protocol.js';

/** A running backend as the host sees it. */
export interface BackendHandle {
  /** Posts a control message (then raise the doorbell so the backend drains it). */
  post(msg: BackendControl): void;
  /** Notices from the backend (e.g. a connection's slot may be reused). */
  onNotice(fn: (n: BackendNotice) => void): void;
  /** Resolves when the backend ended (after a 'stop'), with its counters; rejects if it could not start or its thread died. */
  readonly done: Promise<BackendReport>;
}

export interface BackendStartOptions {
  /** Serve this device on a thread of its own (a hot device). */
  pin?: boolean;
  /** Devices with the same key share one model instance, so they go to the thread that has it (see BackendStart.share). */
  share?: number;
  /** Who placed it (the host): reported back by threads(), so an admin view shows its own devices. */
  owner?: unknown;
}

/** One thread of the pool as an admin sees it. */
export interface BackendThreadInfo {
  id: number;
  pinned: boolean;
  devices: Array<{ busName: string; deviceId: number; owner: unknown }>;
}

export interface BackendRunner {
  /** Starts serving a device (a pin beyond one per core is served by the shared threads). */
  start(start: BackendStart, opts?: BackendStartOptions): BackendHandle;
  /** The threads running now and the devices each serves. */
  threads(): BackendThreadInfo[];
  /** Ends the threads that serve no device and waits for them. */
  close(): Promise<void>;
}

let runner: BackendRunner | undefined;

export function installBackendRunner(r: BackendRunner): void { runner = r; }

export function backendRunner(): BackendRunner {
  if (!runner) {
    throw vbusError('ENOTSUP', 'backend placement needs a backend runner (the Node entry installs a thread pool); this platform has none, so place the device in the host thread');
  }
  return runner;
}

export function hasBackendRunner(): boolean { return runner !== undefined; }

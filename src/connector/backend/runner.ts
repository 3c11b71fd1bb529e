/**
 * Where backends run. The Node entry point installs a runner backed by a piscina pool
 * (src/platform/node-backend.ts); browsers have none, and asking for backend placement
 * there fails with ENOTSUP and says to use host placement.
 */
import { vbusError } from '../../errors.js';
import type { BackendReport, BackendStart, BackendControl, BackendNotice } from './protocol.js';

/** A running backend as the host sees it. */
export interface BackendHandle {
  /** Posts a control message (then raise the doorbell so the backend drains it). */
  post(msg: BackendControl): void;
  /** Notices from the backend (e.g. a connection's slot may be reused). */
  onNotice(fn: (n: BackendNotice) => void): void;
  /** Resolves when the backend task ended (after a 'stop'), with its counters. */
  readonly done: Promise<BackendReport>;
}

export interface BackendRunner {
  start(start: BackendStart): BackendHandle;
  /** Ends the pool's threads once no backend runs. */
  close(): Promise<void>;
}

let runner: BackendRunner | undefined;

export function installBackendRunner(r: BackendRunner): void { runner = r; }

export function backendRunner(): BackendRunner {
  if (!runner) {
    throw vbusError('ENOTSUP', 'backend placement needs a backend runner (Node with piscina); this platform has none, so place the device in the host thread');
  }
  return runner;
}

export function hasBackendRunner(): boolean { return runner !== undefined; }

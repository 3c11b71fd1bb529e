/**
 * Messages between the host and a backend worker (a device model running in its own
 * thread, blocking on its rings). They travel on a MessagePort that the backend drains
 * synchronously each time its doorbell wakes it, so the host always posts first and
 * raises the doorbell after. The data path (calls, rings) never uses these messages.
 */
import type { ShmRegion } from '../types.js';
import type { DeviceFault } from '../slot-server.js';

/** What the backend task is started with. */
export interface BackendStart {
  memory: WebAssembly.Memory;
  module: WebAssembly.Module;
  busName: string;
  deviceId: number;
  /** Signal the backend parks on: raised by direct calls, the device's rings, and the host. */
  doorbell: number;
  /** ES module that exports the model factory, and the export's name. */
  modelUrl: string;
  modelExport: string;
  /** Passed to the factory (attributes and the like). */
  init: unknown;
  /** Payload bytes of the direct call slots. */
  slotPayload: number;
  /** Spin policy of the backend's wait (it owns its core: spinning is cheap there). */
  spin?: { initial?: number; max?: number; fixed?: number };
}

export type BackendControl =
  | { t: 'open'; connId: number; memberId: number; handle: number; version: number; slot: number }
  | { t: 'close'; connId: number }
  | { t: 'shm'; connId: number; region: ShmRegion }
  | { t: 'attr'; name: string; value: string }
  /** Reset a connection (conn-reset.ts); answered by 'reset-done' with the same req. */
  | { t: 'reset'; connId: number; req: number }
  | { t: 'stop' };

/** Messages from a backend to the host. */
export type BackendNotice =
  | { t: 'closed'; connId: number }
  | { t: 'reset-done'; connId: number; req: number; status: number }
  /** A device model misbehaved in the backend (reported once, by the host). */
  | { t: 'fault'; fault: DeviceFault };

export interface BackendReport {
  served: number;
  polled: number;
  wakeups: number;
  spinHits: number;
}

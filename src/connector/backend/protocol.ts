/**
 * Messages between the host and the backend pool's threads (src/connector/backend/pool.ts,
 * pool-thread.ts). One pool thread serves many backend devices; every message names the
 * device it is about by `key` (unique per pool). They travel on the thread's own channel
 * and are handled on the thread's event loop between serve rounds, so the host posts
 * first and raises the device's doorbell after (the thread then runs a round at once).
 * The thread's wake-ups (doorbells) can be handled before a message posted earlier, so
 * each message is also counted in shared memory (PoolCommand 'add' / 'ctl'), and a
 * device's requests wait until every message posted before them was applied.
 * The data path (calls, rings) never uses these messages.
 */
import type { ShmRegion } from '../types.js';
import type { DeviceFault } from '../slot-server.js';

/** What a backend device is started with. */
export interface BackendStart {
  memory: WebAssembly.Memory;
  module: WebAssembly.Module;
  busName: string;
  deviceId: number;
  /** Signal the device parks on: raised by direct calls, the device's rings, and the host. */
  doorbell: number;
  /** ES module that exports the model factory, and the export's name. */
  modelUrl: string;
  modelExport: string;
  /** Passed to the factory (attributes and the like). */
  init: unknown;
  /** Payload bytes of the direct call slots. */
  slotPayload: number;
  /** Spin policy of a pinned device's thread (a shared pool thread keeps its own). */
  spin?: { initial?: number; max?: number; fixed?: number };
  /**
   * Devices started with the same `share` key use one model instance (on one thread): a
   * device linked to several buses whose model spans them (venet-switch).
   */
  share?: number;
  /** The stats region and this device's slot in it (src/stats), when the host keeps stats. */
  stats?: { region: SharedArrayBuffer; slot: number };
}

export type BackendControl =
  | { t: 'open'; connId: number; memberId: number; handle: number; version: number; slot: number }
  | { t: 'close'; connId: number }
  /** `statsRing`: the stats-region ring slot the host assigned to this ring (none: uncounted). */
  | { t: 'shm'; connId: number; region: ShmRegion; statsRing?: number }
  | { t: 'attr'; name: string; value: string }
  /** Reset a connection (conn-reset.ts); answered by 'reset-done' with the same req. */
  | { t: 'reset'; connId: number; req: number }
  | { t: 'stop' };

/** Messages from a backend to the host. */
export type BackendNotice =
  | { t: 'closed'; connId: number }
  | { t: 'reset-done'; connId: number; req: number; status: number }
  /** The model stopped this connection (ConnectorModel.faulted): the host marks it NEEDS_RESET. */
  | { t: 'conn-fault'; connId: number }
  /** A device model misbehaved in the backend (reported once, by the host). */
  | { t: 'fault'; fault: DeviceFault };

export interface BackendReport {
  served: number;
  polled: number;
}

/**
 * Host -> pool thread. `posted` (one Int32 in a SharedArrayBuffer of the host's, never in
 * bus memory: no guest can write it) counts the device's control messages the host has
 * posted; the host adds 1 to it (Atomics.add) before it posts each 'ctl', whose `seq` is
 * the count after that add. The thread serves none of the device's requests while the
 * count is ahead of the last `seq` it applied (see BackendMember.controlsInFlight).
 */
export type PoolCommand =
  | { t: 'add'; key: number; start: BackendStart; posted: SharedArrayBuffer }
  | { t: 'ctl'; key: number; seq: number; msg: BackendControl };

/** Pool thread -> host. */
export type PoolEvent =
  | { t: 'notice'; key: number; notice: BackendNotice }
  /** The device stopped (after its 'stop'); the thread no longer touches its memory. */
  | { t: 'ended'; key: number; report: BackendReport }
  /** The device could not be started (its module or factory failed); nothing of it runs. */
  | { t: 'failed'; key: number; code: string; message: string };

/**
 * Where a device model runs, as the endpoint needs to know it. A model on the host
 * thread has no placement; a model in a backend worker (BackendProxy) has one. These
 * knobs used to sit on ConnectorModel; a model author never sees them.
 */
import type { FaultReporter } from './slot-server.js';

/** A call slot a backend serves for one connection (given to the guest in the DEVOPEN reply). */
export interface DirectSlot {
  slot: number;
  doorbell: number;
}

export interface DevicePlacement {
  /**
   * The signal the device parks on. Rings set up by DEVSHM use it for the direction the
   * device waits on, so one wait covers them all; nothing watches them on the host.
   */
  readonly sharedDoorbell: number;
  /** The direct call slot of a connection, if it has one. */
  directSlot(connId: number): DirectSlot | undefined;
  /**
   * The guest no longer names this connection (its handle was closed, or the member
   * left): regions that the placement keeps for it may be returned now, never before.
   */
  released(connId: number): void;
  /**
   * Resets a connection where the model runs (see conn-reset.ts): resolves with 0 or a
   * negative errno once the rings are formatted again and the model replayed.
   */
  resetConnection(connId: number): Promise<number>;
  /** Where device faults seen in the placement go (the endpoint's reporter). */
  reportFaultsTo(fn: FaultReporter): void;
}

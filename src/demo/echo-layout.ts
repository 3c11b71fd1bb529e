/**
 * The echo demo's control region: one 64-byte line in the bus memory, next to its two
 * rings and two signals.
 *
 *  offset  0              4              8 ... 63
 *          +--------------+--------------+------
 *          | STOP u32     | ECHOED u32   | (zero)
 *          +--------------+--------------+------
 *
 * STOP: the host sets it to 1 (then raises the guest's signal) to end the guest.
 * ECHOED: records the guest has echoed so far (guest writes, anyone reads).
 */
import type { RingDescriptor } from '../core/index.js';

export const ECHO_CTL_BYTES = 64;
export const ECHO_CTL_OFF_STOP = 0;
export const ECHO_CTL_OFF_ECHOED = 4;

/** What the host hands the echo guest at spawn (all plain data or shareable objects). */
export interface EchoStart {
  memory: WebAssembly.Memory;
  module: WebAssembly.Module;
  /** Host produces, guest consumes. */
  toGuest: RingDescriptor;
  /** Guest produces, host consumes. */
  fromGuest: RingDescriptor;
  /** Signal the guest waits on (the host raises it after pushing). */
  guestSignal: number;
  /** Signal the host waits on (the guest raises it after echoing). */
  hostSignal: number;
  /** Offset of the control region. */
  control: number;
}

/** The guest's last message before it exits. */
export interface EchoGuestReport {
  type: 'echo-done';
  echoed: number;
  parks: number;
}

/** The guest's first message, once attached. */
export interface EchoGuestReady {
  type: 'echo-ready';
}

/**
 * The messages between the ring bench's main thread and its peer worker, and the
 * control words they share. The main thread drives; the worker is the consumer in the
 * one-way cases and the echoing side in the round-trip cases.
 */
import type { MessagePort } from 'node:worker_threads';
import type { RingDescriptor } from '../../src/index.js';

/** Int32 indices into the control SharedArrayBuffer (each on its own 64-byte line). */
export const CTL = {
  /** Worker -> main: set to 1 when the consumer/echo loop is about to start. */
  READY: 0,
  /** Worker -> main: set to 1 when the consumer has taken every record. */
  DONE: 16,
  /** Worker -> main: records consumed so far (flow control for postMessage). */
  CONSUMED: 32,
  /** Main -> worker (ping) and worker -> main (pong) sequence numbers for round trips. */
  PING: 48,
  PONG: 64,
} as const;
export const CTL_BYTES = 80 * 4;
/** A PING value that tells the echo loop to stop. */
export const PING_STOP = 0x7fffffff;

/** Throughput implementations (the `impl` column). */
export type OnewayImpl = 'vbus' | 'vbus-batched' | 'vbus-reserve' | 'js-ring' | 'ringbuf.js' | 'ringbuf.js-batch32' | 'postMessage';
/** Round-trip implementations. */
export type RttImpl = 'atomics-wait' | 'vbus-adaptive' | 'postMessage';

export interface PinCmd { kind: 'pin'; cpu: number }
export interface UnpinCmd { kind: 'unpin' }

export interface OnewayCmd {
  kind: 'oneway';
  impl: OnewayImpl;
  ctl: SharedArrayBuffer;
  size: number;
  count: number;
  /** vbus impls: the bus memory, core module, ring, signal and a scratch region for pops. */
  memory?: WebAssembly.Memory;
  module?: WebAssembly.Module;
  ring?: RingDescriptor;
  signal?: number;
  scratch?: number;
  scratchBytes?: number;
  /** js-ring / ringbuf.js: their own shared buffer. */
  sab?: SharedArrayBuffer;
  ringOffset?: number;
  ringCap?: number;
  signalOffset?: number;
  /** postMessage: the port records arrive on. */
  port?: MessagePort;
}

export interface RttCmd {
  kind: 'rtt';
  impl: RttImpl;
  ctl: SharedArrayBuffer;
  memory?: WebAssembly.Memory;
  module?: WebAssembly.Module;
  /** vbus-adaptive: signal main -> worker, signal worker -> main, and the two data words. */
  sigIn?: number;
  sigOut?: number;
  pingOffset?: number;
  pongOffset?: number;
  port?: MessagePort;
}

export type PeerCmd = PinCmd | UnpinCmd | OnewayCmd | RttCmd;

export interface PeerReply {
  ok: boolean;
  /** Records consumed / round trips answered. */
  count?: number;
  /** Records whose length or content did not match. */
  errors?: number;
  /** Consumer wake-ups that parked (vbus / js-ring). */
  parks?: number;
  error?: string;
}

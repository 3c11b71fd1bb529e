/**
 * What venet-tap needs from the platform: a socket that carries Ethernet frames to a
 * peer outside the process, and the registry through which the Node entry point
 * installs one (src/platform/node-venet-tap.ts, installed by src/index.ts). Browsers
 * cannot open UDP or TCP sockets, so there the registry stays empty and a venet-tap
 * refuses with ENOTSUP saying so. Same pattern as the backend runner
 * (src/connector/backend/runner.ts).
 */
import { vbusError, type VbusError } from '../../errors.js';
import type { TapEndpoint } from './tap-endpoint.js';

/** {@link TapTransport.send} results. */
export const TAP_SENT = 0;
/** Not sent now: the socket's queue is full; `writable()` fires when it drained. */
export const TAP_BUSY = 1;
/** Not sent, and never will be: no peer yet, or the connection is gone. */
export const TAP_LOST = 2;

/** What a transport reports to its device model (all calls on the host's event loop). */
export interface TapTransportEvents {
  /** A frame arrived: `data[at .. at+len)`, valid only during the call (copy it). */
  frame(data: Uint8Array, at: number, len: number): void;
  /** The frames reported since the last `flush` form one batch: publish them now. */
  flush(): void;
  /** The socket is ready for its peer (bound, listening or connected); `address` has the real port. */
  ready(address: string): void;
  /** Frames can (true) or can no longer (false) be exchanged; `address` is the endpoint text now. */
  carrier(up: boolean, address: string): void;
  /** A `send` answered TAP_BUSY earlier, and the socket has room again. */
  writable(): void;
  /** Something arrived that is not a frame (a datagram from a stranger, a broken stream). */
  rejected(): void;
  /** The socket failed for good (bind refused, connection refused or lost in connect mode); carrier is down. */
  error(err: VbusError): void;
}

/** An open (or opening) socket for one venet-tap. */
export interface TapTransport {
  /** Sends `data[at .. at+len)` as one frame (copied before returning). */
  send(data: Uint8Array, at: number, len: number): number;
  /** The endpoint as text, with the port the system chose once bound. */
  readonly address: string;
  /** Closes the socket; no event is reported after this returns. Idempotent. */
  close(): void;
}

/** Opens a transport for `ep` (asynchronously: carrier comes up later through `events`). */
export type TapTransportFactory = (ep: TapEndpoint, events: TapTransportEvents) => TapTransport;

let factory: TapTransportFactory | undefined;

/** Installs the platform's transport (the Node entry point does; browsers have none). */
export function installTapTransport(f: TapTransportFactory | undefined): void { factory = f; }

/** True if this platform can open venet-tap sockets. */
export function hasTapTransport(): boolean { return factory !== undefined; }

/** The installed factory; throws ENOTSUP naming why there is none. */
export function tapTransport(): TapTransportFactory {
  if (!factory) {
    throw vbusError('ENOTSUP', 'venet-tap needs UDP/TCP/Unix sockets (node:dgram, node:net), which this platform does not offer (a browser cannot open them); use venet-loopback or venet-switch here, or run the host on Node', {});
  }
  return factory;
}

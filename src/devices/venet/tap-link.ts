/**
 * One external endpoint's socket lifecycle, shared by every venet device that reaches
 * a network outside the process: the `venet-tap` model (one endpoint, its guests on one
 * side) and the `venet-switch`'s external ports (switch-ports.ts). It owns what the two
 * would otherwise each write: opening on enable and closing on disable, carrier
 * (frames can flow only while enabled AND the socket is bound or connected), the
 * `whenOpen` waiters, the last error, and the sticky port (an endpoint with port 0
 * keeps the port the system chose across disable/enable, so a peer wired to it stays
 * wired; if someone took it meanwhile, any free port is taken instead).
 *
 * The owner receives frames and carrier changes through {@link TapLinkEvents}; every
 * callback runs on the host's event loop (the transport's sockets live there).
 */
import { VbusError, vbusError } from '../../errors.js';
import { formatTapEndpoint, parseTapEndpoint, type TapEndpoint } from './tap-endpoint.js';
import { TAP_LOST, tapTransport, type TapTransport, type TapTransportEvents, type TapTransportFactory } from './tap-transport.js';

/** What a {@link TapLink} reports to its owner. */
export interface TapLinkEvents {
  /** A frame arrived: `data[at .. at+len)`, valid only during the call (copy it). */
  frame(data: Uint8Array, at: number, len: number): void;
  /** The frames reported since the last flush form one batch: publish them now. */
  flush(): void;
  /** Frames can (true) or can no longer (false) be exchanged. Called on every change. */
  link(up: boolean): void;
  /** A send answered TAP_BUSY earlier and the socket has room again. */
  writable(): void;
  /** Something arrived that is not a frame (a stranger's datagram, a broken stream). */
  rejected(): void;
}

interface OpenWaiter {
  resolve(address: string): void;
  reject(err: VbusError): void;
}

export class TapLink {
  private endpoint: TapEndpoint;
  private adminUp = false;
  private transport: TapTransport | null = null;
  /** The current socket reported `ready` (bound / listening / connected). */
  private isReady = false;
  private carrierUp = false;
  /** Link state last reported through `link` (so every change is told exactly once). */
  private linkShown = false;
  /** Port the system chose for a `:0` UDP/TCP endpoint, reused when re-enabled. */
  private stickyPort = 0;
  private waiters: OpenWaiter[] = [];
  private readonly tev: TapTransportEvents;
  /** The latest socket error (cleared when the socket opens). */
  lastError: VbusError | null = null;

  /** `what` names the owner in messages (`venet-tap`, `venet-switch sw0 port uplink`). */
  /**
   * `open` makes the transport (default: the platform's, `tapTransport()`); venet-tap
   * passes one that runs through its recordable wire methods (tap-model.ts).
   */
  constructor(endpoint: TapEndpoint, private readonly what: string, private readonly ev: TapLinkEvents, private readonly openTransport?: TapTransportFactory) {
    this.endpoint = endpoint;
    this.tev = {
      frame: (d, at, len) => ev.frame(d, at, len),
      flush: () => ev.flush(),
      ready: (address) => this.ready(address),
      carrier: (up) => this.carrier(up),
      writable: () => ev.writable(),
      rejected: () => ev.rejected(),
      error: (err) => this.failed(err),
    };
  }

  /** The endpoint text: the bound address while open, else the configured one. */
  get address(): string { return this.transport ? this.transport.address : formatTapEndpoint(this.endpoint); }
  /** The configured endpoint (as written, port 0 kept). */
  get configured(): TapEndpoint { return this.endpoint; }
  /** The admin's switch. */
  get enabled(): boolean { return this.adminUp; }
  /** Frames can flow (enabled, and the socket can carry them). */
  get up(): boolean { return this.adminUp && this.carrierUp; }

  /** Opens (true) or closes (false) the socket. Idempotent. */
  setEnabled(up: boolean): void {
    if (up === this.adminUp) return;
    this.adminUp = up;
    if (up) this.open();
    else this.shut(vbusError('ECANCELED', `${this.what} was disabled`, {}));
  }

  /** Chooses another endpoint; EBUSY while enabled (close it first). */
  setEndpoint(ep: TapEndpoint): void {
    if (this.adminUp) throw vbusError('EBUSY', `${this.what} is enabled: disable it before changing its endpoint`, { endpoint: this.address });
    this.endpoint = ep;
    this.stickyPort = 0;
  }

  /** Sends one frame (copied before returning): TAP_SENT, TAP_BUSY or TAP_LOST. */
  send(data: Uint8Array, at: number, len: number): number {
    const t = this.transport;
    return t && this.carrierUp ? t.send(data, at, len) : TAP_LOST;
  }

  /**
   * Resolves with the endpoint text once the socket is ready for its peer (bound,
   * listening or connected; at once if it is now); rejects with the socket's error,
   * ETIMEDOUT after `timeoutMs`, or EAGAIN while disabled.
   */
  whenOpen(timeoutMs = 10_000): Promise<string> {
    if (this.isReady && this.transport) return Promise.resolve(this.transport.address);
    if (!this.adminUp) return Promise.reject(vbusError('EAGAIN', `${this.what} is disabled: enable it first`, {}));
    if (!this.transport && this.lastError) return Promise.reject(this.lastError);
    return new Promise<string>((resolve, reject) => {
      const w: OpenWaiter = {
        resolve: (a) => { clearTimeout(timer); resolve(a); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(vbusError('ETIMEDOUT', `${this.what} endpoint ${this.address} did not open within ${timeoutMs} ms`, { endpoint: this.address, timeoutMs }));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Closes for good (the owner is released). */
  close(): void {
    this.adminUp = false;
    this.shut(vbusError('ECANCELED', `${this.what} was released`, {}));
  }

  private open(): void {
    let ep = this.endpoint;
    if (this.stickyPort !== 0 && ep.kind !== 'stream-unix' && ep.port === 0) ep = { ...ep, port: this.stickyPort };
    this.lastError = null;
    try {
      this.transport = (this.openTransport ?? tapTransport())(ep, this.tev);
    } catch (e) {
      this.transport = null;
      this.failed(e instanceof VbusError ? e : vbusError('EIO', `${this.what} could not open ${formatTapEndpoint(ep)}: ${String((e as Error)?.message ?? e)}`, { endpoint: formatTapEndpoint(ep) }));
    }
  }

  /** Closes the socket, drops carrier, rejects anyone waiting with `why`. */
  private shut(why: VbusError): void {
    const t = this.transport;
    this.transport = null;
    this.isReady = false;
    t?.close();
    this.carrier(false);
    this.rejectAll(why);
  }

  private ready(address: string): void {
    this.isReady = true;
    this.lastError = null;
    const ep = parseTapEndpoint(address);
    if (ep.kind !== 'stream-unix' && !(ep.kind === 'stream-tcp' && !ep.listen) && ep.port !== 0) this.stickyPort = ep.port;
    const w = this.waiters;
    this.waiters = [];
    for (const x of w) x.resolve(address);
  }

  private carrier(up: boolean): void {
    this.carrierUp = up;
    const now = this.up;
    if (now !== this.linkShown) { this.linkShown = now; this.ev.link(now); }
  }

  private failed(err: VbusError): void {
    const retrySticky = err.code === 'EADDRINUSE' && this.stickyPort !== 0;
    this.lastError = err;
    const t = this.transport;
    this.transport = null;
    this.isReady = false;
    t?.close();
    this.carrier(false);
    if (retrySticky && this.adminUp) {
      this.stickyPort = 0; // someone took our old port: take any free one
      this.open();
      return;
    }
    this.rejectAll(err);
  }

  private rejectAll(err: VbusError): void {
    const w = this.waiters;
    this.waiters = [];
    for (const x of w) x.reject(err);
  }
}

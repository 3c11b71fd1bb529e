/**
 * venet-tap's model: bridges the guests' frames to a socket outside the process (see
 * tap-endpoint.ts for the framings). Frames a guest sends go out of the socket; frames
 * arriving on the socket go into the RX ring of every open port (normally one guest).
 *
 * Link state: the guest sees LINK_UP only while the admin's `enabled` is 1 AND the
 * socket can carry frames (UDP bound; stream connected) - the analogue of the
 * original registering its netdev when enabled, with carrier on top. Enabling opens
 * the socket, disabling closes it. A UDP endpoint with port 0 keeps the port the system
 * chose across disable/enable, so a peer wired to it stays wired.
 *
 * Host placement only: the socket lives on the host's event loop, and the socket's
 * callbacks and the connector's polls run on that one thread, never interleaved. No
 * checksum offload: frames leave for a real network, which expects complete checksums,
 * so `features_cap` never includes `csum`.
 */
import { VbusError, vbusError } from '../../errors.js';
import { ETH_HEADER_BYTES, VENET_F_TX_DONE, featuresToText } from './abi.js';
import { DELIVERED, DROPPED, NO_ROOM, VenetModelBase, type VenetInit, type VenetPort } from './model-base.js';
import { formatTapEndpoint, parseTapEndpoint, type TapEndpoint } from './tap-endpoint.js';
import { TAP_BUSY, TAP_SENT, tapTransport, type TapTransport, type TapTransportEvents } from './tap-transport.js';

/** Features a venet-tap can offer a guest. */
export const TAP_FEATURES = VENET_F_TX_DONE;

/** What the tap's factory takes. */
export interface VenetTapInit extends VenetInit {
  /** Endpoint text (the `ifname` attribute). */
  endpoint: string;
}

interface OpenWaiter {
  resolve(address: string): void;
  reject(err: VbusError): void;
}

export class VenetTapModel extends VenetModelBase {
  private endpoint: TapEndpoint;
  private adminUp: boolean;
  private transport: TapTransport | null = null;
  /** The current socket reported `ready` (bound / listening / connected). */
  private isReady = false;
  /** Port the system chose for a `:0` UDP/TCP endpoint, reused when re-enabled. */
  private stickyPort = 0;
  private waiters: OpenWaiter[] = [];
  private readonly events: TapTransportEvents;
  /** The latest socket error (cleared when the carrier comes up). */
  lastError: VbusError | null = null;

  constructor(init: VenetTapInit) {
    // The base's `enabled` is the link the guest sees: down until the socket is open.
    super({ ...init, attrs: { ...init.attrs, enabled: '0', features_cap: featuresToText(TAP_FEATURES) } });
    this.endpoint = parseTapEndpoint(init.endpoint);
    this.adminUp = init.attrs.enabled === '1';
    this.events = {
      frame: (data, at, len) => this.guarded(() => this.fromWire(data, at, len)),
      flush: () => this.guarded(() => this.commitTouched()),
      ready: (address) => this.guarded(() => this.ready(address)),
      carrier: (up, address) => this.guarded(() => this.carrier(up, address)),
      writable: () => this.guarded(() => this.pumpAll()),
      rejected: () => this.guarded(() => { this.stats.drops++; }),
      error: (err) => this.guarded(() => this.failed(err)),
    };
    if (this.adminUp) this.openSocket();
  }

  /** The endpoint as `ifname` shows it: the bound address while open, else the configured text. */
  get ifname(): string { return this.transport ? this.transport.address : formatTapEndpoint(this.endpoint); }

  /** The link the guest sees (enabled and carrier). */
  get linkUp(): boolean { return this.cfg.enabled; }

  /** The admin's `enabled`. */
  get enabled(): boolean { return this.adminUp; }

  /**
   * Resolves with the endpoint text once the socket is ready for its peer (bound,
   * listening, or connected; at once if it is now);
   * rejects with the socket's error, or ETIMEDOUT after `timeoutMs`, or EAGAIN if
   * the tap is disabled.
   */
  whenOpen(timeoutMs = 10_000): Promise<string> {
    if (this.isReady && this.transport) return Promise.resolve(this.transport.address);
    if (!this.adminUp) return Promise.reject(vbusError('EAGAIN', 'venet-tap is disabled: write 1 to its enabled attribute first', {}));
    if (!this.transport && this.lastError) return Promise.reject(this.lastError);
    return new Promise<string>((resolve, reject) => {
      const w: OpenWaiter = {
        resolve: (a) => { clearTimeout(timer); resolve(a); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(vbusError('ETIMEDOUT', `venet-tap endpoint ${this.ifname} did not open within ${timeoutMs} ms`, { endpoint: this.ifname, timeoutMs }));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Applies a typed-API setting (`mtu`, `features_cap`) the way an attribute write would. */
  configure(name: 'mtu' | 'features_cap', value: string): void {
    super.attrChanged(name, value);
  }

  override attrChanged(name: string, value: string): void {
    if (name === 'enabled') {
      const up = value === '1';
      if (up === this.adminUp) return;
      this.adminUp = up;
      if (up) this.openSocket();
      else this.shut(vbusError('ECANCELED', 'venet-tap was disabled', {}));
      return;
    }
    if (name === 'ifname') {
      // The class refuses this write while enabled, so no socket is open here.
      this.endpoint = parseTapEndpoint(value);
      this.stickyPort = 0;
      return;
    }
    super.attrChanged(name, value);
  }

  override release(): void {
    this.adminUp = false;
    this.shut(vbusError('ECANCELED', 'venet-tap was released', {}));
    super.release();
  }

  // ---- guest -> wire -------------------------------------------------------------

  protected forward(src: VenetPort, at: number, len: number, _flags: number): number {
    const t = this.transport;
    const r = t ? t.send(src.u8, at, len) : -1; // send copies the frame out of the ring
    if (r === TAP_SENT) return DELIVERED;
    if (r === TAP_BUSY) return NO_ROOM; // stays in the TX ring; `writable` pumps again
    this.stats.drops++; // no peer yet, or the connection is gone
    return DROPPED;
  }

  // ---- wire -> guests ------------------------------------------------------------

  /** A frame from the socket: validated by length, copied into every ready port's RX ring. */
  private fromWire(data: Uint8Array, at: number, len: number): void {
    if (!this.cfg.enabled || len < ETH_HEADER_BYTES || len > this.cfg.mtu + ETH_HEADER_BYTES) {
      this.stats.drops++;
      return;
    }
    for (const p of this.ports.values()) {
      // A full RX ring drops (a network does not wait); DELIVERED is published at `flush`.
      if (this.deliver(p, data, at, len, 0) !== DELIVERED) this.stats.drops++;
    }
    if (this.ports.size === 0) this.stats.drops++;
  }

  // ---- socket lifecycle ----------------------------------------------------------

  private openSocket(): void {
    let ep = this.endpoint;
    if (this.stickyPort !== 0 && ep.kind !== 'stream-unix' && ep.port === 0) ep = { ...ep, port: this.stickyPort };
    this.lastError = null;
    try {
      this.transport = tapTransport()(ep, this.events);
    } catch (e) {
      this.transport = null;
      this.failed(e instanceof VbusError ? e : vbusError('EIO', `venet-tap could not open ${formatTapEndpoint(ep)}: ${String((e as Error)?.message ?? e)}`, { endpoint: formatTapEndpoint(ep) }));
    }
  }

  /** Closes the socket, drops the link, rejects anyone waiting with `why`. */
  private shut(why: VbusError): void {
    const t = this.transport;
    this.transport = null;
    this.isReady = false;
    t?.close();
    this.carrier(false, '');
    const w = this.waiters;
    this.waiters = [];
    for (const x of w) x.reject(why);
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

  private carrier(up: boolean, _address: string): void {
    const link = this.adminUp && up;
    if (link !== this.cfg.enabled) super.attrChanged('enabled', link ? '1' : '0'); // posts LINK_UP / LINK_DOWN
    if (link) this.pumpAll(); // frames a guest queued before the socket opened go out now
  }

  private failed(err: VbusError): void {
    const retrySticky = err.code === 'EADDRINUSE' && this.stickyPort !== 0;
    this.lastError = err;
    const t = this.transport;
    this.transport = null;
    this.isReady = false;
    t?.close();
    this.carrier(false, '');
    if (retrySticky && this.adminUp) {
      this.stickyPort = 0; // someone took our old port: take any free one
      this.openSocket();
      return;
    }
    const w = this.waiters;
    this.waiters = [];
    for (const x of w) x.reject(err);
  }

  /** Drains every port's TX ring (after the socket drained, or the link came up). */
  private pumpAll(): void {
    for (const p of this.ports.values()) {
      try { this.pump(p); } catch { this.fault(p); }
    }
    this.stats.flush();
  }

  /** Runs a socket callback: counters are published after it, and nothing it throws reaches the host. */
  private guarded(fn: () => void): void {
    try { fn(); } catch { this.stats.faults++; }
    this.stats.flush();
  }
}

/** Factory (host thread only). */
export function createModel(init: VenetTapInit): VenetTapModel {
  return new VenetTapModel(init);
}

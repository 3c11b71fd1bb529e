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
import { ETH_HEADER_BYTES, VENET_F_TX_DONE, featuresToText } from './abi.js';
import { DELIVERED, DROPPED, NO_ROOM, VenetModelBase, type VenetInit, type VenetPort } from './model-base.js';
import { parseTapEndpoint } from './tap-endpoint.js';
import { TapLink } from './tap-link.js';
import { TAP_BUSY, TAP_SENT } from './tap-transport.js';

/** Features a venet-tap can offer a guest. */
export const TAP_FEATURES = VENET_F_TX_DONE;

/** What the tap's factory takes. */
export interface VenetTapInit extends VenetInit {
  /** Endpoint text (the `ifname` attribute). */
  endpoint: string;
}

export class VenetTapModel extends VenetModelBase {
  /** The socket and its lifecycle (shared with the switch's external ports). */
  private readonly link: TapLink;

  constructor(init: VenetTapInit) {
    // The base's `enabled` is the link the guest sees: down until the socket is open.
    super({ ...init, attrs: { ...init.attrs, enabled: '0', features_cap: featuresToText(TAP_FEATURES) } });
    this.link = new TapLink(parseTapEndpoint(init.endpoint), 'venet-tap', {
      frame: (data, at, len) => this.guarded(() => this.fromWire(data, at, len)),
      flush: () => this.guarded(() => this.commitTouched()),
      link: (up) => this.guarded(() => this.linkChanged(up)),
      writable: () => this.guarded(() => this.pumpAll()),
      rejected: () => this.guarded(() => { this.stats.drops++; }),
    });
    this.link.setEnabled(init.attrs.enabled === '1');
  }

  /** The endpoint as `ifname` shows it: the bound address while open, else the configured text. */
  get ifname(): string { return this.link.address; }

  /** The link the guest sees (enabled and carrier). */
  get linkUp(): boolean { return this.cfg.enabled; }

  /** The admin's `enabled`. */
  get enabled(): boolean { return this.link.enabled; }

  /** The latest socket error (cleared when the socket opens). */
  get lastError(): Error | null { return this.link.lastError; }

  /**
   * Resolves with the endpoint text once the socket is ready for its peer (bound,
   * listening, or connected; at once if it is now);
   * rejects with the socket's error, or ETIMEDOUT after `timeoutMs`, or EAGAIN if
   * the tap is disabled.
   */
  whenOpen(timeoutMs = 10_000): Promise<string> { return this.link.whenOpen(timeoutMs); }

  /** Applies a typed-API setting (`mtu`, `features_cap`) the way an attribute write would. */
  configure(name: 'mtu' | 'features_cap', value: string): void {
    super.attrChanged(name, value);
  }

  override attrChanged(name: string, value: string): void {
    if (name === 'enabled') { this.link.setEnabled(value === '1'); return; }
    if (name === 'ifname') { this.link.setEndpoint(parseTapEndpoint(value)); return; } // the class refuses this write while enabled
    super.attrChanged(name, value);
  }

  override release(): void {
    this.link.close();
    super.release();
  }

  // ---- guest -> wire -------------------------------------------------------------

  protected forward(src: VenetPort, at: number, len: number, _flags: number): number {
    const r = this.link.send(src.u8, at, len); // send copies the frame out of the ring
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

  /** The link the guest sees follows the socket: LINK_UP / LINK_DOWN on each port. */
  private linkChanged(up: boolean): void {
    if (up !== this.cfg.enabled) super.attrChanged('enabled', up ? '1' : '0');
    if (up) this.pumpAll(); // frames a guest queued before the socket opened go out now
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

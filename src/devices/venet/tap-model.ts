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
 * Recording (src/record): everything between the model and its socket goes through the
 * `wire*` methods, so a recording holds the socket's side as inputs: what the socket
 * reported (`recordEntries`: frames, flushes, ready, carrier, room again, strangers,
 * errors) and what the model asked of it (`recordSources`: open, send, close). A replay
 * makes the same calls with no socket at all. The socket must open inside the
 * recording (start recording with `enabled` 0), so `recordRefusal` says so otherwise.
 *
 * Host placement only: the socket lives on the host's event loop, and the socket's
 * callbacks and the connector's polls run on that one thread, never interleaved. No
 * checksum offload: frames leave for a real network, which expects complete checksums,
 * so `features_cap` never includes `csum`.
 */
import { ETH_HEADER_BYTES, VENET_F_TX_DONE, featuresToText } from './abi.js';
import { DELIVERED, DROPPED, NO_ROOM, VenetModelBase, type VenetInit, type VenetPort } from './model-base.js';
import { TapLink } from './tap-link.js';
import { TAP_BUSY, TAP_LOST, TAP_SENT, tapTransport, type TapTransport, type TapTransportEvents } from './tap-transport.js';
import { VbusError, vbusError, ERRNO, type ErrnoCode } from '../../errors.js';
import { formatTapEndpoint, parseTapEndpoint, type TapEndpoint } from './tap-endpoint.js';

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
  readonly recordEntries = ['wireFrame', 'wireFlush', 'wireReady', 'wireCarrier', 'wireWritable', 'wireRejected', 'wireError'] as const;
  readonly recordSources = ['wireOpen', 'wireSend', 'wireClose'] as const;
  /** The platform's socket (null while closed, and always during a replay). */
  private real: TapTransport | null = null;
  /** The link's side of the current transport: where the wire's reports go. */
  private linkEvents: TapTransportEvents | null = null;
  /** The endpoint as the socket last reported it (ready / carrier). */
  private wireAddress: string | null = null;

  constructor(init: VenetTapInit) {
    // The base's `enabled` is the link the guest sees: down until the socket is open.
    super({ ...init, attrs: { ...init.attrs, enabled: '0', features_cap: featuresToText(TAP_FEATURES) } });
    this.link = new TapLink(parseTapEndpoint(init.endpoint), 'venet-tap', {
      frame: (data, at, len) => this.guarded(() => this.fromWire(data, at, len)),
      flush: () => this.guarded(() => this.commitTouched()),
      link: (up) => this.guarded(() => this.linkChanged(up)),
      writable: () => this.guarded(() => this.pumpAll()),
      rejected: () => this.guarded(() => { this.stats.drops++; }),
    }, (ep, ev) => this.openWire(ep, ev));
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

  /** Why this tap cannot be recorded now (src/record), or null. */
  recordRefusal(): string | null {
    return this.link.enabled ? 'its socket is open, outside the recording: start recording with enabled 0, then enable it' : null;
  }

  // ---- the wire: the model's only contact with its socket (recordable) ------------

  /** The transport TapLink uses: every call and report passes a `wire*` method. */
  private openWire(ep: TapEndpoint, ev: TapTransportEvents): TapTransport {
    this.linkEvents = ev;
    const text = formatTapEndpoint(ep);
    this.wireAddress = null;
    const failed = this.wireOpen(text);
    if (failed) throw new VbusError((failed.code in ERRNO ? failed.code : 'EIO') as ErrnoCode, failed.message);
    const model = this;
    return {
      send: (data, at, len) => model.wireSend(data.subarray(at, at + len)),
      get address() { return model.wireAddress ?? text; },
      close: () => { model.linkEvents = null; model.wireClose(); },
    };
  }

  /** Source: opens the platform's socket for `endpoint`; null, or why it failed. */
  wireOpen(endpoint: string): { code: string; message: string } | null {
    try {
      this.real = tapTransport()(parseTapEndpoint(endpoint), {
        frame: (d, at, len) => this.wireFrame(d.subarray(at, at + len)),
        flush: () => this.wireFlush(),
        ready: (a) => this.wireReady(a),
        carrier: (up, a) => this.wireCarrier(up, a),
        writable: () => this.wireWritable(),
        rejected: () => this.wireRejected(),
        error: (e) => this.wireError(e.code, plain(e)),
      });
      return null;
    } catch (e) {
      this.real = null;
      return e instanceof VbusError ? { code: e.code, message: plain(e) } : { code: 'EIO', message: `could not open ${endpoint}: ${String((e as Error)?.message ?? e)}` };
    }
  }

  /** Source: sends one frame (the socket copies it); TAP_SENT, TAP_BUSY or TAP_LOST. */
  wireSend(frame: Uint8Array): number { return this.real ? this.real.send(frame, 0, frame.length) : TAP_LOST; }

  /** Source: closes the socket. */
  wireClose(): null { const t = this.real; this.real = null; t?.close(); return null; }

  /** Entry: a frame arrived on the socket (valid during the call only). */
  wireFrame(frame: Uint8Array): void { this.linkEvents?.frame(frame, 0, frame.length); }
  /** Entry: the frames reported since the last flush form a batch. */
  wireFlush(): void { this.linkEvents?.flush(); }
  /** Entry: the socket is ready for its peer at `address`. */
  wireReady(address: string): void { this.wireAddress = address; this.linkEvents?.ready(address); }
  /** Entry: frames can (or can no longer) flow; `address` is the endpoint now. */
  wireCarrier(up: boolean, address: string): void { this.wireAddress = address; this.linkEvents?.carrier(up, address); }
  /** Entry: the socket has room again after TAP_BUSY. */
  wireWritable(): void { this.linkEvents?.writable(); }
  /** Entry: something that is not a frame arrived. */
  wireRejected(): void { this.linkEvents?.rejected(); }
  /** Entry: the socket failed for good. */
  wireError(code: string, message: string): void {
    this.linkEvents?.error(vbusError((code in ERRNO ? code : 'EIO') as ErrnoCode, message));
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

/** A VbusError's message without its "CODE: " prefix (the error is made again from both). */
function plain(e: VbusError): string {
  return e.message.startsWith(`${e.code}: `) ? e.message.slice(e.code.length + 2) : e.message;
}

/** Factory (host thread only). */
export function createModel(init: VenetTapInit): VenetTapModel {
  return new VenetTapModel(init);
}

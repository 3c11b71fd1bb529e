/**
 * The `venet-tap` class and its typed control API.
 *
 * Attributes: exactly the original's four (the original admin walkthrough shows a fresh venet-tap with
 * `client_mac`, `enabled`, `host_mac`, `ifname`, and the admin walkthrough test
 * compares that tree line for line):
 *  - `enabled` (default 0): writing 1 opens the socket, as the original registered its
 *    netdev on enable; 0 closes it. The guest sees LINK_UP/LINK_DOWN.
 *  - `client_mac`, `host_mac`: as every venet class.
 *  - `ifname`: the endpoint (tap-endpoint.ts). Reading it reports where the tap is
 *    (`udp:127.0.0.1:40123` once bound, the port filled in), which is what an admin
 *    script wires its peer to, as the original's `ifname=$(cat .../ifname)` did. Writing
 *    it chooses the endpoint; refused with EBUSY while enabled.
 * The rest of the virtual-ethernet ABI's settings and counters (`mtu`, `features_cap`,
 * `negotiated`, rx/tx frames and bytes, drops, faults) are reached through
 * {@link venetTap} rather than as files, so the admin tree stays the original's.
 */
import type { DeviceClassSpec } from '../../host/device-class.js';
import type { Device } from '../../host/device.js';
import { vbusError } from '../../errors.js';
import { venetState } from './state.js';
import { VENET_INTERFACE, featuresToText } from './abi.js';
import { VENET_INITIAL_ATTRS, featureBits, parseEnabled, parseIfname, parseMac, parseMtu } from './config.js';
import { STAT_ATTRS, STAT_NEGOTIATED, createStatsBuffer, readStat } from './stats.js';
import { TAP_DEFAULT_ENDPOINT, formatTapEndpoint, parseTapEndpoint } from './tap-endpoint.js';
import { TAP_FEATURES, createModel, type VenetTapModel } from './tap-model.js';
import { hasTapTransport, tapTransport } from './tap-transport.js';

interface TapState {
  model: VenetTapModel;
  stats: SharedArrayBuffer;
}

const tapState = new WeakMap<Device, TapState>();

/** Counter names {@link VenetTapControl.counters} reports (the venet ABI's counters). */
export type VenetCounterName = 'rx_frames' | 'rx_bytes' | 'tx_frames' | 'tx_bytes' | 'drops' | 'faults';

/** The typed view of one venet-tap device (see {@link venetTap}). */
export class VenetTapControl {
  /** @internal */
  constructor(readonly device: Device, private readonly st: TapState) {}

  /** The endpoint text (`ifname`): bound address while open, else the configured one. */
  get endpoint(): string { return this.st.model.ifname; }
  /** True while the guest sees the link up (enabled and the socket can carry frames). */
  get linkUp(): boolean { return this.st.model.linkUp; }
  /** The latest socket error, or null. */
  get lastError(): Error | null { return this.st.model.lastError; }
  /** Payload bytes per frame after the 14-byte header. */
  get mtu(): number { return this.st.model.cfg.mtu; }
  /** Features the admin lets a guest negotiate, as text (`tx_done` or `none`). */
  get featuresCap(): string { return featuresToText(this.st.model.cfg.featuresCap); }
  /** Features of the latest negotiation, as text. */
  get negotiated(): string { return featuresToText(Number(readStat(this.st.stats, STAT_NEGOTIATED))); }

  /** The venet counters (frames the device took from guests = rx, gave to guests = tx). */
  counters(): Record<VenetCounterName, number> {
    const out = {} as Record<VenetCounterName, number>;
    for (const [name, index] of STAT_ATTRS) out[name as VenetCounterName] = Number(readStat(this.st.stats, index));
    return out;
  }

  /** Sets the MTU (68..65521). Guests that opened the device earlier keep the one they queried. EINVAL otherwise. */
  setMtu(mtu: number | string): void {
    this.st.model.configure('mtu', parseMtu(String(mtu)));
  }

  /** Caps the features a guest may negotiate (`tx_done`, `none`). `csum` is refused: the wire wants whole checksums. */
  setFeaturesCap(text: string): void {
    const bits = featureBits(text);
    if ((bits & ~TAP_FEATURES) !== 0) {
      throw vbusError('ENOTSUP', `venet-tap cannot offer ${featuresToText(bits & ~TAP_FEATURES)}: frames leave for a real network, which needs complete checksums (offers: ${featuresToText(TAP_FEATURES)})`, { value: text });
    }
    this.st.model.configure('features_cap', featuresToText(bits));
  }

  /** Resolves with the endpoint once frames can flow; rejects with the socket error or ETIMEDOUT. */
  whenOpen(timeoutMs?: number): Promise<string> { return this.st.model.whenOpen(timeoutMs); }
}

/** The typed control of venet-tap `device`. ENODEV if it is not a typed venet-tap. */
export function venetTap(device: Device): VenetTapControl {
  const st = tapState.get(device);
  if (!st) throw vbusError('ENODEV', `device ${device.name} is not a venet-tap (type it venet-tap first)`, { device: device.name });
  return new VenetTapControl(device, st);
}

function parseEndpointAttr(text: string, device: Device): string {
  if (device.attr('enabled') === '1') {
    throw vbusError('EBUSY', `venet-tap ${device.name} is enabled: write 0 to enabled before changing its endpoint (ifname)`, { device: device.name, value: text });
  }
  return formatTapEndpoint(parseTapEndpoint(parseIfname(text)));
}

/** `venet-tap`: bridges frames to a socket outside the process. Host placement only; Node only. */
export const venetTapClass: DeviceClassSpec = {
  name: 'venet-tap',
  interfaces: [VENET_INTERFACE],
  attributes: [
    { name: 'client_mac', mode: 'rw', initial: VENET_INITIAL_ATTRS.client_mac!, parse: parseMac },
    { name: 'enabled', mode: 'rw', initial: '0', parse: parseEnabled },
    { name: 'host_mac', mode: 'rw', initial: VENET_INITIAL_ATTRS.host_mac!, parse: parseMac },
    {
      name: 'ifname', mode: 'rw', initial: TAP_DEFAULT_ENDPOINT, parse: parseEndpointAttr,
      show: (d) => tapState.get(d)?.model.ifname ?? TAP_DEFAULT_ENDPOINT,
    },
  ],
  state: venetState,
  create(device) {
    if (!hasTapTransport()) tapTransport(); // throws ENOTSUP saying why (a browser has no sockets)
    const stats = createStatsBuffer();
    const model = createModel({
      attrs: { client_mac: device.attr('client_mac'), host_mac: device.attr('host_mac'), enabled: device.attr('enabled') },
      stats,
      endpoint: TAP_DEFAULT_ENDPOINT, // a fresh device has the initial ifname
    });
    tapState.set(device, { model, stats });
    return model;
  },
};

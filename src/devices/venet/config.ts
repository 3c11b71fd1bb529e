/**
 * A venet device's settings: the attribute texts every venet class shares, their
 * parsers (the admin's writes are validated and normalised here), and the parsed form
 * a model works with. Platform-neutral and importable in a backend worker.
 */
import { vbusError } from '../../errors.js';
import {
  VENET_F_ALL, VENET_FEATURE_NAMES, VENET_DEFAULT_MTU, VENET_MIN_MTU, VENET_MAX_MTU,
  isMacText, macFromText, featuresToText,
} from './abi.js';

/** Parsed settings a model uses. */
export interface VenetConfig {
  enabled: boolean;
  clientMac: Uint8Array;
  hostMac: Uint8Array;
  mtu: number;
  featuresCap: number;
  ifname: string;
  /** Most queue pairs a port may negotiate (`queues`). */
  queues: number;
}

/** Attribute texts at device creation. */
export const VENET_INITIAL_ATTRS: Readonly<Record<string, string>> = Object.freeze({
  enabled: '1',
  client_mac: '02:00:00:00:00:01',
  host_mac: '02:00:00:00:00:fe',
  ifname: '',
  mtu: String(VENET_DEFAULT_MTU),
  features_cap: featuresToText(VENET_F_ALL),
  queues: '1',
});

/** `enabled`: 1 or 0 (also accepts true/false, up/down). */
export function parseEnabled(text: string): string {
  const t = text.trim().toLowerCase();
  if (t === '1' || t === 'true' || t === 'up') return '1';
  if (t === '0' || t === 'false' || t === 'down') return '0';
  throw vbusError('EINVAL', `enabled must be 1 or 0, not ${JSON.stringify(text)}`, { value: text });
}

/**
 * A station MAC: `aa:bb:cc:dd:ee:ff`, normalised to lower case. A device's own address
 * must be unicast: a group address (the low bit of the first octet, which broadcast
 * ff:ff:ff:ff:ff:ff has too) would make every frame sent to it a flood, and all zeros is
 * no station.
 */
export function parseMac(text: string): string {
  const t = text.trim();
  if (!isMacText(t)) throw vbusError('EINVAL', `${JSON.stringify(text)} is not a MAC address (aa:bb:cc:dd:ee:ff)`, { value: text });
  const first = parseInt(t.slice(0, 2), 16);
  if ((first & 1) !== 0) {
    throw vbusError('EINVAL', `${t} is a ${t.toLowerCase() === 'ff:ff:ff:ff:ff:ff' ? 'broadcast' : 'multicast'} address; a device's MAC must be unicast (low bit of the first octet clear, e.g. 02:00:00:00:00:01)`, { value: text });
  }
  if (/^(00:){5}00$/i.test(t)) throw vbusError('EINVAL', `${t} is not a station address; use a unicast MAC such as 02:00:00:00:00:01`, { value: text });
  return t.toLowerCase();
}

/** Longest `ifname` accepted, in UTF-8 bytes (a tap endpoint holds a socket path). */
export const IFNAME_MAX = 255;

/** `ifname`: printable text of at most IFNAME_MAX bytes (no NUL or other control characters). */
export function parseIfname(text: string): string {
  const t = text.trim();
  const bytes = new TextEncoder().encode(t).length;
  if (bytes > IFNAME_MAX) throw vbusError('EINVAL', `ifname is ${bytes} bytes; at most ${IFNAME_MAX}`, { bytes });
  if (/[\u0000-\u001f\u007f-\u009f]/u.test(t)) throw vbusError('EINVAL', `ifname ${JSON.stringify(t)} contains a control character (NUL, newline, ...)`, { value: t });
  return t;
}

/** `mtu`: an integer between VENET_MIN_MTU and VENET_MAX_MTU. */
export function parseMtu(text: string): string {
  const t = text.trim();
  const n = /^\d+$/.test(t) ? Number(t) : NaN;
  if (!(n >= VENET_MIN_MTU && n <= VENET_MAX_MTU)) {
    throw vbusError('EINVAL', `mtu ${JSON.stringify(text)} must be an integer between ${VENET_MIN_MTU} and ${VENET_MAX_MTU}`, { value: text });
  }
  return String(n);
}

/**
 * `features_cap`: feature names separated by commas (`csum,tx_done`), `all`, `none`, or
 * a number (`0x3`). Normalised to names. Unknown names or bits are refused.
 */
export function parseFeatures(text: string): string {
  return featuresToText(featureBits(text));
}

/** Bits of a features text (see {@link parseFeatures}). Throws EINVAL. */
export function featureBits(text: string): number {
  const t = text.trim().toLowerCase();
  if (t === 'all') return VENET_F_ALL;
  if (t === 'none' || t === '') return 0;
  if (/^(0x[0-9a-f]+|\d+)$/.test(t)) {
    const n = Number(t);
    if ((n & ~VENET_F_ALL) !== 0 || n > VENET_F_ALL) {
      throw vbusError('EINVAL', `features ${JSON.stringify(text)} has bits outside 0x${VENET_F_ALL.toString(16)}`, { value: text });
    }
    return n;
  }
  let bits = 0;
  for (const name of t.split(',').map((s) => s.trim())) {
    const f = VENET_FEATURE_NAMES.find(([n]) => n === name);
    if (!f) throw vbusError('EINVAL', `unknown feature ${JSON.stringify(name)} in ${JSON.stringify(text)} (known: ${VENET_FEATURE_NAMES.map(([n]) => n).join(', ')})`, { value: text });
    bits |= f[1];
  }
  return bits;
}

/** Parsed settings from attribute texts (missing ones take their initial value). */
export function configFromAttrs(attrs: Readonly<Record<string, string>>): VenetConfig {
  const a = { ...VENET_INITIAL_ATTRS, ...attrs };
  return {
    enabled: a.enabled === '1',
    clientMac: macFromText(a.client_mac!),
    hostMac: macFromText(a.host_mac!),
    mtu: Number(a.mtu),
    featuresCap: featureBits(a.features_cap!),
    ifname: a.ifname!,
    queues: Number(a.queues),
  };
}

/** Applies one attribute change to `cfg`. Returns false for a name the config does not hold. */
export function applyAttr(cfg: VenetConfig, name: string, value: string): boolean {
  switch (name) {
    case 'enabled': cfg.enabled = value === '1'; return true;
    case 'client_mac': cfg.clientMac = macFromText(value); return true;
    case 'host_mac': cfg.hostMac = macFromText(value); return true;
    case 'mtu': cfg.mtu = Number(value); return true;
    case 'features_cap': cfg.featuresCap = featureBits(value); return true;
    case 'ifname': cfg.ifname = value; return true;
    case 'queues': cfg.queues = Number(value); return true;
    default: return false;
  }
}

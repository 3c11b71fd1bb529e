/**
 * External ports of a `venet-switch`: switch ports that are sockets to a network
 * outside the process instead of guest connections, so a Linux TAP (through socat), a
 * QEMU VM (`-netdev dgram` / `-netdev stream`) and vbus guests share one L2 segment
 * with no guest in the middle. They learn and flood like any other port.
 *
 * The admin sets them in the switch's `ports` attribute, one port per line (or `;`
 * between ports):
 *
 *   NAME ENDPOINT [enabled=1|0]
 *
 * NAME is 1-32 of [A-Za-z0-9_-]; ENDPOINT is exactly what `venet-tap`'s `ifname` takes
 * (tap-endpoint.ts); `enabled` defaults to 1. Writing the attribute states the whole
 * set: ports not named any more are closed, a port whose endpoint is unchanged keeps
 * its socket (only `enabled` is applied), a changed endpoint reopens. `ports_state`
 * (read-only) shows each port's bound address, link and counters.
 *
 * The sockets and their lifecycle are {@link TapLink}'s, the same code venet-tap uses.
 */
import { vbusError } from '../../errors.js';
import { FRAME_F_CSUM_PARTIAL } from './abi.js';
import { formatTapEndpoint, parseTapEndpoint, type TapEndpoint } from './tap-endpoint.js';
import { TapLink, type TapLinkEvents } from './tap-link.js';
import { TAP_SENT, hasTapTransport, tapTransport } from './tap-transport.js';

/** One external port as the admin configured it. */
export interface ExternalPortSpec {
  name: string;
  endpoint: TapEndpoint;
  enabled: boolean;
}

const PORT_NAME = /^[A-Za-z0-9_-]{1,32}$/;
/** Most external ports one switch takes (each is a socket on the host's event loop). */
export const SWITCH_MAX_EXTERNAL_PORTS = 64;

function bad(text: string, why: string): never {
  throw vbusError('EINVAL', `venet-switch ports ${JSON.stringify(text)}: ${why} (one port per line: NAME ENDPOINT [enabled=1|0], ENDPOINT as venet-tap's ifname)`, { value: text });
}

/** Parses the `ports` attribute text. Throws EINVAL naming the rule broken; ENOTSUP where sockets do not exist. */
export function parseSwitchPorts(text: string): ExternalPortSpec[] {
  const out: ExternalPortSpec[] = [];
  const names = new Set<string>();
  for (const raw of text.split(/[\n;]/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const words = line.split(/\s+/);
    if (words.length < 2 || words.length > 3) bad(text, `${JSON.stringify(line)} is not NAME ENDPOINT [enabled=1|0]`);
    const [name, epText, opt] = words as [string, string, string | undefined];
    if (!PORT_NAME.test(name)) bad(text, `port name ${JSON.stringify(name)} must be 1-32 of A-Z a-z 0-9 _ -`);
    if (names.has(name)) bad(text, `port ${name} is named twice`);
    names.add(name);
    let enabled = true;
    if (opt !== undefined) {
      if (opt === 'enabled=1') enabled = true;
      else if (opt === 'enabled=0') enabled = false;
      else bad(text, `${JSON.stringify(opt)} is not enabled=1 or enabled=0`);
    }
    out.push({ name, endpoint: parseTapEndpoint(epText), enabled });
  }
  if (out.length > SWITCH_MAX_EXTERNAL_PORTS) bad(text, `at most ${SWITCH_MAX_EXTERNAL_PORTS} external ports`);
  if (out.length > 0 && !hasTapTransport()) tapTransport(); // throws ENOTSUP saying why (a browser has no sockets)
  return out;
}

/** The normal form of a port set (what the attribute stores and shows). */
export function formatSwitchPorts(specs: readonly ExternalPortSpec[]): string {
  return specs.map((p) => `${p.name} ${formatTapEndpoint(p.endpoint)} enabled=${p.enabled ? 1 : 0}`).join('\n');
}

/** Counters of one external port (rx: frames from the wire into the switch; tx: frames out to the wire). */
export interface ExternalPortCounters {
  rx_frames: number;
  rx_bytes: number;
  tx_frames: number;
  tx_bytes: number;
  drops: number;
}

/** What an external port tells the switch (host event loop). */
export interface ExternalPortOwner {
  /** A frame from the wire, to be switched (`data[at .. at+len)`, valid during the call). */
  fromExternal(port: ExternalPort, data: Uint8Array, at: number, len: number): void;
  /** The frames from the wire since the last flush form one batch. */
  externalFlush(): void;
  /** The port's link went up or down. */
  externalLink(port: ExternalPort, up: boolean): void;
}

/** One external port: a {@link TapLink} plus its counters. Counted on the host thread only. */
export class ExternalPort {
  readonly link: TapLink;
  rxFrames = 0;
  rxBytes = 0;
  txFrames = 0;
  txBytes = 0;
  drops = 0;

  constructor(readonly name: string, endpoint: TapEndpoint, switchName: string, owner: ExternalPortOwner) {
    const ev: TapLinkEvents = {
      frame: (d, at, len) => owner.fromExternal(this, d, at, len),
      flush: () => owner.externalFlush(),
      link: (up) => owner.externalLink(this, up),
      writable: () => { /* never waits: a frame with no room is dropped (see send) */ },
      rejected: () => { this.drops++; },
    };
    this.link = new TapLink(endpoint, `venet-switch ${switchName} port ${name}`, ev);
  }

  /** True while frames can flow. */
  get up(): boolean { return this.link.up; }

  /**
   * Sends a switched frame out of the socket. False (counted as this port's drop) if the
   * link is down, the socket is full (a switch does not wait for one slow port), or the
   * frame's checksum was left to offload: a real network needs it complete.
   */
  send(data: Uint8Array, at: number, len: number, flags: number): boolean {
    if ((flags & FRAME_F_CSUM_PARTIAL) !== 0 || this.link.send(data, at, len) !== TAP_SENT) {
      this.drops++;
      return false;
    }
    this.txFrames++;
    this.txBytes += len;
    return true;
  }

  counters(): ExternalPortCounters {
    return { rx_frames: this.rxFrames, rx_bytes: this.rxBytes, tx_frames: this.txFrames, tx_bytes: this.txBytes, drops: this.drops };
  }

  /** One line of `ports_state`. */
  stateLine(): string {
    const c = this.counters();
    return `${this.name} ${this.link.address} link=${this.up ? 'up' : 'down'} rx_frames=${c.rx_frames} rx_bytes=${c.rx_bytes} tx_frames=${c.tx_frames} tx_bytes=${c.tx_bytes} drops=${c.drops}`;
  }
}

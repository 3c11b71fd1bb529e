/**
 * venet-switch's model: a MAC-learning layer-2 switch whose ports are all the open
 * connections, on every bus the device is linked to (one device, many buses).
 *
 *  - Learning: a frame's unicast source MAC is bound to the port it came from (moved if
 *    it appears on another port) and timestamped.
 *  - Forwarding: a known unicast destination goes to its port only (dropped if that is
 *    the sender's own port); unknown unicast, multicast and broadcast are flooded to
 *    every other ready port.
 *  - Ageing: an entry not refreshed for `ageing_ms` is forgotten (checked on lookup
 *    and swept once per second of traffic), so a moved or silent host is flooded again.
 *  - A port whose RX ring is full drops the frame (tail drop, counted), like a switch's
 *    output queue: one slow guest never stalls the others.
 *
 * Frames cross buses by copying from the sender's bus memory into the receiver's (see
 * VenetModelBase.deliver); no memory is shared between buses. Host placement only: one
 * model must see every bus's rings, and a backend worker serves a single bus.
 */
import { ETH_OFF_DST, ETH_OFF_SRC, macKey } from './abi.js';
import { DELIVERED, DROPPED, VenetModelBase, type VenetInit, type VenetPort } from './model-base.js';

/** Default `ageing_ms` (the 802.1D default of 300 s). */
export const SWITCH_DEFAULT_AGEING_MS = 300_000;

/** Weight of a MAC's first byte in its {@link macKey} number (2^40). */
const MAC_FIRST_BYTE = 0x10000000000;

interface FdbEntry {
  port: VenetPort;
  seen: number;
}

export interface SwitchInit extends VenetInit {
  /** Clock in ms (tests may pass their own); default performance.now. */
  now?: () => number;
}

export class VenetSwitchModel extends VenetModelBase {
  /** Forwarding database: MAC (as a 48-bit number) -> port and last-seen time. */
  private readonly fdb = new Map<number, FdbEntry>();
  private ageingMs: number;
  private readonly now: () => number;
  /** The clock is what the switch reads from the world (src/record/contract.ts). */
  readonly recordSources = ['now'] as const;
  private t = 0;
  private lastSweep = 0;
  private readonly portList: VenetPort[] = [];

  constructor(init: SwitchInit) {
    super(init);
    this.ageingMs = Number(init.attrs.ageing_ms ?? SWITCH_DEFAULT_AGEING_MS);
    this.now = init.now ?? (() => performance.now());
  }

  /** Number of learned addresses (for the admin's `fdb_entries`). */
  get fdbSize(): number { return this.fdb.size; }

  /** Learned table as text lines `mac port` (for the admin). */
  fdbText(): string {
    const lines: string[] = [];
    const now = this.now();
    for (const [k, e] of this.fdb) {
      if (now - e.seen > this.ageingMs) continue;
      lines.push(`${k.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:')} ${e.port.conn.busName}:${e.port.conn.memberId}`);
    }
    return lines.sort().join('\n');
  }

  override attrChanged(name: string, value: string): void {
    if (name === 'ageing_ms') { this.ageingMs = Number(value); return; }
    super.attrChanged(name, value);
  }

  protected override portMac(port: VenetPort): Uint8Array {
    // Each port gets its own address: client_mac with the port number added to the low 16 bits.
    const mac = this.cfg.clientMac.slice();
    const low = ((mac[4]! << 8) | mac[5]!) + port.index + 1;
    mac[4] = (low >> 8) & 0xff;
    mac[5] = low & 0xff;
    return mac;
  }

  protected override portOpened(port: VenetPort): void {
    this.portList.push(port);
    // Addresses a loaded state learned on this port's number point to it again.
    for (let i = this.restoredFdb.length - 1; i >= 0; i--) {
      const e = this.restoredFdb[i]!;
      if (e.port !== port.index) continue;
      this.fdb.set(e.mac, { port, seen: this.now() - e.age });
      this.restoredFdb.splice(i, 1);
    }
  }

  /**
   * The table for a saved state: MAC, port number, milliseconds since last seen (entries
   * of ports not open again yet included).
   */
  fdbEntries(): Array<{ mac: number; port: number; age: number }> {
    const now = this.now();
    const out = [...this.fdb].map(([mac, e]) => ({ mac, port: e.port.index, age: Math.max(0, Math.round(now - e.seen)) }));
    return out.concat(this.restoredFdb.map((e) => ({ ...e })));
  }

  /** Entries of a loaded state, waiting for their ports (see portOpened). */
  restoredFdb: Array<{ mac: number; port: number; age: number }> = [];

  protected override portClosed(port: VenetPort): void {
    const i = this.portList.indexOf(port);
    if (i >= 0) this.portList.splice(i, 1);
    for (const [k, e] of this.fdb) if (e.port === port) this.fdb.delete(k);
  }

  /** Any port's signal drains every port: frames may wait on one port for room on another. */
  protected override pump(_port: VenetPort): number {
    this.t = this.now();
    if (this.t - this.lastSweep > 1000) this.sweep();
    let n = 0;
    const list = this.portList;
    for (let i = 0; i < list.length; i++) {
      const p = list[i]!;
      n += super.pump(p);
    }
    return n;
  }

  protected forward(src: VenetPort, at: number, _len: number, flags: number): number {
    const u8 = src.u8;
    // Header read once into locals: the decision never re-reads guest memory.
    const dstKey = macKey(u8, at + ETH_OFF_DST);
    const srcKey = macKey(u8, at + ETH_OFF_SRC);
    const len = _len;
    const dstGroup = (Math.floor(dstKey / MAC_FIRST_BYTE) & 1) !== 0; // I/G bit of the first byte
    const srcGroup = (Math.floor(srcKey / MAC_FIRST_BYTE) & 1) !== 0;
    if (!srcGroup) this.learn(srcKey, src);
    if (!dstGroup) {
      const e = this.fdb.get(dstKey);
      if (e !== undefined) {
        if (this.t - e.seen > this.ageingMs) {
          this.fdb.delete(dstKey);
        } else {
          if (e.port === src) { this.stats.drops++; return DROPPED; } // filtered: it is on the sender's own port
          if (this.deliver(e.port, u8, at, len, flags) !== DELIVERED) this.stats.drops++;
          return DELIVERED;
        }
      }
    }
    // A loaded state's address whose guest has not opened the device again: the port is
    // known but not there yet, so the frame is dropped (and counted), not flooded.
    if (!dstGroup && this.restoredFdb.length > 0 && this.restoredFdb.some((e) => e.mac === dstKey)) { this.stats.drops++; return DELIVERED; }
    const list = this.portList;
    let reached = 0;
    for (let i = 0; i < list.length; i++) {
      const p = list[i]!;
      if (p === src) continue;
      if (!p.ready) continue;
      reached++;
      if (this.deliver(p, u8, at, len, flags) !== DELIVERED) this.stats.drops++;
    }
    if (reached === 0) this.stats.drops++; // flooded to nobody (no other port is up): it went nowhere, counted
    return DELIVERED;
  }

  private learn(key: number, port: VenetPort): void {
    const e = this.fdb.get(key);
    if (e === undefined) this.fdb.set(key, { port, seen: this.t });
    else { e.port = port; e.seen = this.t; }
  }

  private sweep(): void {
    this.lastSweep = this.t;
    for (const [k, e] of this.fdb) if (this.t - e.seen > this.ageingMs) this.fdb.delete(k);
  }
}

/** Factory (host thread). */
export function createModel(init: SwitchInit): VenetSwitchModel {
  return new VenetSwitchModel(init);
}

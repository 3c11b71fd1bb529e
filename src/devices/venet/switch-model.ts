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
 *  - Fairness: a poll (any port's kick) is one pass over every port, in rounds that take
 *    at most PAIR_BUDGET frames from each port, starting one port further each pass, with
 *    what each port held when the pass began as its bound (model-base.ts): a port that
 *    floods gets its share of each round and no more, and cannot hold the pass. A pass
 *    also ends after {@link SWITCH_PASS_BUDGET} frames (a pass runs on the host's event
 *    loop, or a pool thread's that serves other devices): it returns how many it moved,
 *    and the runtime polls again while that is > 0, so what is left is served next.
 *  - External ports (switch-ports.ts, the `ports` attribute) are sockets to networks
 *    outside the process; they learn, forward and flood exactly like guest ports.
 *
 * Frames cross buses by copying from the sender's bus memory into the receiver's (see
 * VenetModelBase.deliver); no memory is shared between buses. In backend placement one
 * model, in one pool thread, serves every bus the device is linked to.
 *
 * The table lookups of a flow are cached per port (PortCache): a port that sends frame
 * after frame from one MAC to one MAC finds both entries without a map lookup; an entry
 * that leaves the table is marked dead, so a cache never revives it.
 */
import { ETH_HEADER_BYTES, ETH_OFF_DST, ETH_OFF_SRC, macKey } from './abi.js';
import { DELIVERED, DROPPED, PAIR_BUDGET, VenetModelBase, type VenetInit, VenetPort } from './model-base.js';
import { ExternalPort, parseSwitchPorts, type ExternalPortOwner, type ExternalPortSpec } from './switch-ports.js';
import { formatTapEndpoint } from './tap-endpoint.js';

/**
 * Frames one pass moves at most (about a quarter of a millisecond of switching at 64 B):
 * what a poll may hold its thread for. The rotation of the first port keeps the passes fair.
 */
export const SWITCH_PASS_BUDGET = 4 * PAIR_BUDGET;

/** Default `ageing_ms` (the 802.1D default of 300 s). */
export const SWITCH_DEFAULT_AGEING_MS = 300_000;

/** Weight of a MAC's first byte in its {@link macKey} number (2^40). */
const MAC_FIRST_BYTE = 0x10000000000;

/** A switch port: a guest connection or an external socket. */
type SwitchPort = VenetPort | ExternalPort;

interface FdbEntry {
  port: SwitchPort;
  seen: number;
  /** False once the entry left the table (aged, forgotten, replaced): caches drop it. */
  live: boolean;
}

/** The last source and destination entries a port's frames used (see the file comment). */
interface PortCache {
  srcKey: number;
  src: FdbEntry | null;
  dstKey: number;
  dst: FdbEntry | null;
}

function emptyCache(): PortCache { return { srcKey: -1, src: null, dstKey: -1, dst: null }; }

export interface SwitchInit extends VenetInit {
  /** Clock in ms (tests may pass their own); default performance.now. */
  now?: () => number;
  /** The device's name (for messages about its external ports). */
  name?: string;
}

export class VenetSwitchModel extends VenetModelBase implements ExternalPortOwner {
  /** Forwarding database: MAC (as a 48-bit number) -> port and last-seen time. */
  private readonly fdb = new Map<number, FdbEntry>();
  private ageingMs: number;
  private readonly now: () => number;
  /** The clock is what the switch reads from the world (src/record/contract.ts). */
  readonly recordSources = ['now'] as const;
  private t = 0;
  private lastSweep = 0;
  private readonly portList: VenetPort[] = [];
  /** Each guest port's lookup cache (see PortCache). */
  private readonly caches = new Map<VenetPort, PortCache>();
  /** The cache of the port whose frames are being switched now (set per slice in pump). */
  private cache: PortCache | null = null;
  /** The port the next pass starts with (round robin). */
  private nextPort = 0;
  /** External ports by name, in the order the admin listed them. */
  private readonly externals = new Map<string, ExternalPort>();
  private readonly name: string;

  constructor(init: SwitchInit) {
    super(init);
    this.ageingMs = Number(init.attrs.ageing_ms ?? SWITCH_DEFAULT_AGEING_MS);
    this.now = init.now ?? (() => performance.now());
    this.name = init.name ?? 'venet-switch';
    if (init.attrs.ports) this.setExternalPorts(parseSwitchPorts(init.attrs.ports));
  }

  /** The external port `name`, if configured. */
  external(name: string): ExternalPort | undefined { return this.externals.get(name); }

  /** Every external port, in configuration order. */
  externalPorts(): ExternalPort[] { return [...this.externals.values()]; }

  /**
   * Applies a whole external-port set (the `ports` attribute): ports not named are
   * closed, an unchanged endpoint keeps its socket and only takes `enabled`, a changed
   * one reopens. Sockets open asynchronously; nothing here can fail.
   */
  setExternalPorts(specs: readonly ExternalPortSpec[]): void {
    const keep = new Set(specs.map((p) => p.name));
    for (const [name, ext] of this.externals) {
      if (!keep.has(name)) this.dropExternal(ext);
    }
    for (const spec of specs) {
      let ext = this.externals.get(spec.name);
      if (ext && formatTapEndpoint(ext.link.configured) !== formatTapEndpoint(spec.endpoint)) {
        this.dropExternal(ext);
        ext = undefined;
      }
      if (!ext) {
        ext = new ExternalPort(spec.name, spec.endpoint, this.name, this);
        this.externals.set(spec.name, ext);
      }
      ext.link.setEnabled(spec.enabled);
    }
  }

  /** Number of learned addresses (for the admin's `fdb_entries`). */
  get fdbSize(): number { return this.fdb.size; }

  /** Learned table as text lines `mac port` (for the admin). */
  fdbText(): string {
    const lines: string[] = [];
    const now = this.now();
    for (const [k, e] of this.fdb) {
      if (now - e.seen > this.ageingMs) continue;
      const where = e.port instanceof VenetPort ? `${e.port.conn.busName}:${e.port.conn.memberId}` : `external:${e.port.name}`;
      lines.push(`${k.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:')} ${where}`);
    }
    return lines.sort().join('\n');
  }

  override attrChanged(name: string, value: string): void {
    if (name === 'ageing_ms') { this.ageingMs = Number(value); return; }
    if (name === 'ports') { this.setExternalPorts(parseSwitchPorts(value)); return; } // validated by the class's parser
    super.attrChanged(name, value);
  }

  override release(): void {
    for (const ext of this.externals.values()) ext.link.close();
    this.externals.clear();
    super.release();
  }

  // ---- external ports (ExternalPortOwner; host event loop) ------------------------

  fromExternal(ext: ExternalPort, data: Uint8Array, at: number, len: number): void {
    if (!this.cfg.enabled || len < ETH_HEADER_BYTES || len > this.cfg.mtu + ETH_HEADER_BYTES) {
      ext.drops++; // the switch is disabled, or not an Ethernet frame this switch carries
      this.stats.drops++;
      return;
    }
    ext.rxFrames++;
    ext.rxBytes += len;
    this.stats.rxFrames++;
    this.stats.rxBytes += len;
    this.t = this.now();
    try {
      this.switchFrame(ext, data, at, len, 0);
    } catch {
      this.stats.faults++; // a model bug must not reach the host's socket callbacks
    }
  }

  externalFlush(): void {
    this.commitTouched();
    this.stats.flush();
  }

  externalLink(ext: ExternalPort, up: boolean): void {
    if (!up) this.forgetPort(ext); // a port that went down: its hosts are flooded for again
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
    this.caches.set(port, emptyCache());
    // Addresses a loaded state learned on this port's number point to it again.
    for (let i = this.restoredFdb.length - 1; i >= 0; i--) {
      const e = this.restoredFdb[i]!;
      if (e.port !== port.index) continue;
      this.setEntry(e.mac, port, this.now() - e.age);
      this.restoredFdb.splice(i, 1);
    }
  }

  /**
   * The table for a saved state: MAC, port number, milliseconds since last seen (entries
   * of ports not open again yet included).
   */
  fdbEntries(): Array<{ mac: number; port: number; age: number }> {
    const now = this.now();
    // Entries on external ports are not saved: an external peer is learned again when it sends.
    const out = [...this.fdb].flatMap(([mac, e]) => e.port instanceof ExternalPort
      ? [] : [{ mac, port: e.port.index, age: Math.max(0, Math.round(now - e.seen)) }]);
    return out.concat(this.restoredFdb.map((e) => ({ ...e })));
  }

  /** Entries of a loaded state, waiting for their ports (see portOpened). */
  restoredFdb: Array<{ mac: number; port: number; age: number }> = [];

  protected override portClosed(port: VenetPort): void {
    const i = this.portList.indexOf(port);
    if (i >= 0) this.portList.splice(i, 1);
    this.caches.delete(port);
    this.forgetPort(port);
  }

  private forgetPort(port: SwitchPort): void {
    for (const [k, e] of this.fdb) if (e.port === port) this.dropEntry(k, e);
  }

  /** Takes `e` (the entry of `key`) out of the table; caches holding it let go. */
  private dropEntry(key: number, e: FdbEntry): void {
    e.live = false;
    this.fdb.delete(key);
  }

  /** Binds `key` to `port` with a new entry (an entry it replaces dies). */
  private setEntry(key: number, port: SwitchPort, seen: number): FdbEntry {
    const old = this.fdb.get(key);
    if (old !== undefined) old.live = false;
    const e: FdbEntry = { port, seen, live: true };
    this.fdb.set(key, e);
    return e;
  }

  private dropExternal(ext: ExternalPort): void {
    ext.link.close();
    this.externals.delete(ext.name);
    this.forgetPort(ext);
  }

  /**
   * Any port's kick is one pass over every port (a frame may be waiting on any of them):
   * rounds of at most PAIR_BUDGET frames per port, starting one port further each pass,
   * each port bounded by what it held when the pass began, the pass by
   * SWITCH_PASS_BUDGET (see the file comment).
   */
  protected override pump(_port: VenetPort): number {
    this.t = this.now();
    if (this.t - this.lastSweep > 1000) this.sweep();
    const list = this.portList;
    const k = list.length;
    if (k === 0) return 0;
    for (let i = 0; i < k; i++) this.startPass(list[i]!);
    const first = this.nextPort++ % k;
    let n = 0;
    try {
      for (let moved = 1; moved > 0 && n < SWITCH_PASS_BUDGET;) {
        moved = 0;
        for (let i = 0; i < k && n + moved < SWITCH_PASS_BUDGET; i++) {
          const p = list[(first + i) % k]!;
          this.cache = this.caches.get(p) ?? null;
          moved += this.drainRound(p, Math.min(PAIR_BUDGET, SWITCH_PASS_BUDGET - n - moved));
        }
        n += moved;
      }
    } finally {
      this.cache = null;
    }
    for (let i = 0; i < k; i++) this.endPass(list[i]!);
    return n;
  }

  protected forward(src: VenetPort, at: number, len: number, flags: number, pair: number): number {
    return this.switchFrame(src, src.u8, at, len, flags, pair, src.i32, this.cache);
  }

  /**
   * Learns the source, forwards to the known port or floods; `u8[at .. at+len)` is the
   * frame (`words`: the Int32Array over the same memory, if any). `cache`: the source
   * port's lookup cache (guest ports).
   */
  private switchFrame(src: SwitchPort, u8: Uint8Array, at: number, len: number, flags: number, pair = 0, words: Int32Array | null = null, cache: PortCache | null = null): number {
    // Header read once into locals: the decision never re-reads guest memory.
    const dstKey = macKey(u8, at + ETH_OFF_DST);
    const srcKey = macKey(u8, at + ETH_OFF_SRC);
    const dstGroup = (Math.floor(dstKey / MAC_FIRST_BYTE) & 1) !== 0; // I/G bit of the first byte
    const srcGroup = (Math.floor(srcKey / MAC_FIRST_BYTE) & 1) !== 0;
    if (!srcGroup) {
      const c = cache?.src;
      if (c != null && c.live && cache!.srcKey === srcKey) { c.port = src; c.seen = this.t; } // learn() without the lookup
      else {
        const e = this.learn(srcKey, src);
        if (cache) { cache.srcKey = srcKey; cache.src = e; }
      }
    }
    if (!dstGroup) {
      const c = cache?.dst;
      const e = c != null && c.live && cache!.dstKey === dstKey ? c : this.fdb.get(dstKey);
      if (e !== undefined) {
        if (this.t - e.seen > this.ageingMs) {
          this.dropEntry(dstKey, e);
        } else {
          if (cache) { cache.dstKey = dstKey; cache.dst = e; }
          if (e.port === src) { this.stats.drops++; return DROPPED; } // filtered: it is on the sender's own port
          this.sendTo(e.port, u8, at, len, flags, pair, words);
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
      this.sendTo(p, u8, at, len, flags, pair, words);
    }
    if (this.externals.size > 0) {
      for (const ext of this.externals.values()) {
        if (ext === src || !ext.up) continue;
        reached++;
        this.sendTo(ext, u8, at, len, flags, pair, null);
      }
    }
    if (reached === 0) this.stats.drops++; // flooded to nobody (no other port is up): it went nowhere, counted
    return DELIVERED;
  }

  /** One copy of a frame to one port; a frame that finds no room is dropped and counted. */
  private sendTo(p: SwitchPort, u8: Uint8Array, at: number, len: number, flags: number, pair: number, words: Int32Array | null): void {
    if (p instanceof VenetPort) {
      if (this.deliver(p, u8, at, len, flags, pair, words) !== DELIVERED) this.stats.drops++;
    } else if (p.send(u8, at, len, flags)) {
      this.stats.txFrames++;
      this.stats.txBytes += len;
    } else {
      this.stats.drops++;
    }
  }

  private learn(key: number, port: SwitchPort): FdbEntry {
    const e = this.fdb.get(key);
    if (e === undefined) return this.setEntry(key, port, this.t);
    e.port = port;
    e.seen = this.t;
    return e;
  }

  private sweep(): void {
    this.lastSweep = this.t;
    for (const [k, e] of this.fdb) if (this.t - e.seen > this.ageingMs) this.dropEntry(k, e);
  }
}

/** Factory (host thread). */
export function createModel(init: SwitchInit): VenetSwitchModel {
  return new VenetSwitchModel(init);
}

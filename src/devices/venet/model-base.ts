/**
 * The device side every venet class shares: one {@link VenetPort} per open connection
 * (its TX, RX and EVENT rings), the QUERY and NEGOTIATE calls, link state driven by the
 * `enabled` attribute (LINK_UP / LINK_DOWN on each port's EVENT ring; frames sent while
 * the link is down are consumed and dropped), frame validation, delivery into a port's
 * RX ring with one commit and one kick per pass, and the counters.
 *
 * A subclass says where a frame goes ({@link VenetModelBase.forward}). Everything a
 * guest wrote is hostile: a frame's length and tag are read once (by the ring core)
 * and validated before use; a frame's header bytes are read once into locals by the
 * subclass; payload bytes are opaque and only copied. A corrupt ring makes its port
 * stop (counted once in `faults`); nothing here throws into the host.
 *
 * A pass (one poll) is bounded and fair. It first notes how many bytes each TX ring it
 * serves holds (the pair's `quota`): frames published after the pass began wait for the
 * next pass, which their publisher's kick (or the runtime's re-check of the ring index)
 * starts, so a guest that refills its ring as fast as it is drained cannot keep the pass
 * going for ever. The pass then runs rounds, each taking at most {@link PAIR_BUDGET}
 * frames from each pair, until a round moves nothing; after each pair's share of a round
 * (a slice) the frames it delivered are published with one commit and one kick per
 * receiving ring, and the slice's TX space is released once, not per frame.
 *
 * Multiqueue (abi.ts, VENET_F_MQ): a port has up to `queues` TX/RX pairs (the admin's
 * cap, fixed per port at NEGOTIATE). A round serves every pair, starting one further
 * each time, so no pair starves another; a frame is delivered on the receiver's pair of
 * the number it was sent on, modulo the receiver's pair count. A corrupt ring faults its
 * pair only (the EVENT ring belongs to pair 0); the port's other pairs go on.
 *
 * Platform-neutral: runs in the host thread and in a backend worker.
 */
import type { ConnectorModel, DeviceConnection, ShmRegion } from '../../connector/types.js';
import type { ConsumerEnd, ProducerEnd } from '../../core/queue.js';
import { deviceConsumer, deviceProducer, SHM_RING_TO_DEVICE, SHM_RING_TO_GUEST } from '../../connector/device-queues.js';
import { ERRNO, vbusError } from '../../errors.js';
import {
  VENET_VERSION, VENET_QUEUE_TX, VENET_QUEUE_RX, VENET_QUEUE_EVENT, VENET_FUNC_QUERY, VENET_FUNC_NEGOTIATE,
  VENET_F_MQ, VENET_QUEUES_PER_PAIR, VENET_NEG_OFF_FEATURES, VENET_NEG_OFF_QUEUES, NEGOTIATE_MQ_BYTES,
  INFO_BYTES, INFO_OFF_CLIENT_MAC, INFO_OFF_HOST_MAC, INFO_OFF_MTU, INFO_OFF_LINK, INFO_OFF_FEATURES_CAP,
  INFO_OFF_NEGOTIATED, NEGOTIATE_BYTES, VENET_F_ALL, VENET_F_CSUM, VENET_F_TX_DONE, ETH_HEADER_BYTES,
  FRAME_F_CSUM_PARTIAL, FRAME_F_DATA_VALID, EVENT_BYTES, EVENT_OFF_CODE, EVENT_OFF_ARG, EVENT_LINK_UP,
  EVENT_LINK_DOWN, EVENT_TX_DONE,
} from './abi.js';
import { applyAttr, configFromAttrs, type VenetConfig } from './config.js';
import { VenetStats } from './stats.js';
import { takeRestoredPort, type SavedPort } from './port-state.js';
import { copyFrame } from './frame-copy.js';
import { ringRecordBytes } from '../../core/ring.js';

/** What a venet model factory takes (structured-cloneable: it crosses to backend workers). */
export interface VenetInit {
  /** Attribute texts at creation (or at placement, for a backend). */
  attrs: Record<string, string>;
  /** The device's shared counter block (see stats.ts). */
  stats: SharedArrayBuffer;
}

/**
 * Frames taken from one pair per round: fairness between the pairs of a port and, in a
 * switch, between ports; also how many frames a slice delivers before it publishes them.
 */
export const PAIR_BUDGET = 256;

/** One TX/RX queue pair of a port. */
export class VenetQueuePair {
  /** Guest -> device frames (the guest's TX ring). */
  tx: ConsumerEnd | null = null;
  /** Device -> guest frames (the guest's RX ring). */
  rx: ProducerEnd | null = null;
  /** Records reserved in `rx` and not yet committed (this pass). */
  pendingRx = 0;
  /** A ring of this pair was found corrupt: the pair moves nothing any more. */
  faulted = false;
  /** TX bytes this pass may still take (what the ring held when the pass began; see the file comment). */
  quota = 0;
  constructor(readonly port: VenetPort, readonly index: number) {}
  /** True once the TX and RX rings exist and neither this pair nor its port faulted. */
  get ready(): boolean { return this.tx !== null && this.rx !== null && !this.faulted && !this.port.faulted; }
}

/** One open connection: a port of the device. */
export class VenetPort {
  /** The port's queue pairs (pair 0 always; more after a multiqueue NEGOTIATE). */
  readonly pairs: VenetQueuePair[] = [];
  /** Device -> guest events (pair 0's). */
  ev: ProducerEnd | null = null;
  negotiated = 0;
  /** Queue pairs this port may set up (1 until VENET_F_MQ is negotiated). */
  queues = 1;
  /** Link state last posted on the EVENT ring (null: none yet). */
  linkShown: boolean | null = null;
  /** The whole port stopped (a model error): it moves nothing any more. */
  faulted = false;
  /** The pair the next round starts with (round robin). */
  nextPair = 0;
  /** The port's bus memory bytes and words (cached views). */
  readonly u8: Uint8Array;
  readonly i32: Int32Array;
  /** Frames consumed from this port's TX rings in the current pass (for TX_DONE). */
  took = 0;
  constructor(readonly conn: DeviceConnection, readonly index: number) {
    this.u8 = conn.memory.u8;
    this.i32 = conn.memory.i32;
    this.pairs.push(new VenetQueuePair(this, 0));
  }
  /** Pair 0's TX ring (guest -> device). */
  get tx(): ConsumerEnd | null { return this.pairs[0]!.tx; }
  /** Pair 0's RX ring (device -> guest). */
  get rx(): ProducerEnd | null { return this.pairs[0]!.rx; }
  /** True while some pair can move frames. */
  get ready(): boolean {
    for (const p of this.pairs) if (p.ready) return true;
    return false;
  }
  /** Pair `n`, made when first named. */
  pair(n: number): VenetQueuePair {
    while (this.pairs.length <= n) this.pairs.push(new VenetQueuePair(this, this.pairs.length));
    return this.pairs[n]!;
  }
}

/** Outcome of {@link VenetModelBase.deliver}. */
export const DELIVERED = 0;
export const NO_ROOM = 1;
export const DROPPED = 2;

export abstract class VenetModelBase implements ConnectorModel {
  readonly cfg: VenetConfig;
  readonly stats: VenetStats;
  protected readonly ports = new Map<number, VenetPort>();
  private portSeq = 0;
  /**
   * Ports of a loaded state (src/devices/venet/state.ts) whose guests have not opened
   * the device again: a guest that does gets its port back (number, negotiated
   * features), so its driver need not negotiate again.
   */
  restoredPorts: SavedPort[] = [];
  private readonly touched: VenetQueuePair[] = [];
  private readonly evBuf = new Uint8Array(EVENT_BYTES);
  private readonly evView = new DataView(this.evBuf.buffer);

  constructor(init: VenetInit) {
    this.cfg = configFromAttrs(init.attrs);
    this.stats = new VenetStats(init.stats);
  }

  /**
   * Where frames from `src` go: called for each valid frame while the link is up, with
   * the payload at `src.u8[at .. at+len)` (still in the sender's ring), its flags and
   * the queue pair it was sent on. Call {@link deliver} for each destination (passing
   * `pair` on, for steering). Return NO_ROOM to leave the frame in the sender's ring (it
   * is offered again when the destination frees space), anything else to consume it.
   */
  protected abstract forward(src: VenetPort, at: number, len: number, flags: number, pair: number): number;

  /** The MAC the guest of `port` is told in QUERY (default: `client_mac`). */
  protected portMac(_port: VenetPort): Uint8Array { return this.cfg.clientMac; }

  /** A new port was opened (subclasses keep tables). */
  protected portOpened(_port: VenetPort): void {}
  /** A port was closed (subclasses forget what points to it). */
  protected portClosed(_port: VenetPort): void {}

  // ---- connector hooks ---------------------------------------------------------

  open(conn: DeviceConnection): void {
    if (conn.version !== VENET_VERSION) {
      throw vbusError('ENOTSUP', `venet interface version ${conn.version} is not supported (only ${VENET_VERSION})`, { version: conn.version });
    }
    const saved = takeRestoredPort(this.restoredPorts, conn);
    const port = new VenetPort(conn, saved ? saved.index : this.portSeq++);
    if (saved) { port.negotiated = saved.negotiated; port.queues = saved.queues ?? 1; }
    // A reset replays close/open/shm with the regions the connection has (conn-reset.ts):
    // pairs above 0 among them were negotiated before, so the count carries over.
    port.queues = Math.max(port.queues, ...conn.shms.map((r) => Math.floor(r.queue / VENET_QUEUES_PER_PAIR) + 1));
    this.ports.set(conn.id, port);
    this.portOpened(port);
  }

  call(conn: DeviceConnection, func: number, payload: Uint8Array, out: Uint8Array): number {
    const port = this.ports.get(conn.id);
    if (!port) return -ERRNO.ENOTCONN;
    if (func === VENET_FUNC_QUERY) {
      if (out.length < INFO_BYTES) return -ERRNO.ENOSPC;
      out.fill(0, 0, INFO_BYTES);
      const v = new DataView(out.buffer, out.byteOffset, INFO_BYTES);
      out.set(this.portMac(port), INFO_OFF_CLIENT_MAC);
      out.set(this.cfg.hostMac, INFO_OFF_HOST_MAC);
      v.setUint32(INFO_OFF_MTU, this.cfg.mtu, true);
      v.setUint32(INFO_OFF_LINK, this.cfg.enabled ? 1 : 0, true);
      v.setUint32(INFO_OFF_FEATURES_CAP, this.cfg.featuresCap, true);
      v.setUint32(INFO_OFF_NEGOTIATED, port.negotiated, true);
      return INFO_BYTES;
    }
    if (func === VENET_FUNC_NEGOTIATE) {
      if (payload.length < NEGOTIATE_BYTES || out.length < NEGOTIATE_BYTES) return -ERRNO.EINVAL;
      // Read the offer once (the guest can still write the slot), then answer in place.
      const withQueues = payload.length >= NEGOTIATE_MQ_BYTES && out.length >= NEGOTIATE_MQ_BYTES;
      const req = new DataView(payload.buffer, payload.byteOffset, withQueues ? NEGOTIATE_MQ_BYTES : NEGOTIATE_BYTES);
      const offered = req.getUint32(VENET_NEG_OFF_FEATURES, true);
      const wanted = withQueues ? req.getUint32(VENET_NEG_OFF_QUEUES, true) : 1;
      if (wanted < 1) return -ERRNO.EINVAL;
      // The count is fixed once a pair above 0 exists: its rings stay served as they are.
      if (port.pairs.length <= 1) port.queues = (offered & VENET_F_MQ) !== 0 ? Math.min(wanted, this.cfg.queues) : 1;
      const agreed = (offered & this.cfg.featuresCap & VENET_F_ALL) | (port.queues > 1 ? VENET_F_MQ : 0);
      port.negotiated = agreed;
      this.stats.setNegotiated(agreed);
      const r = new DataView(out.buffer, out.byteOffset, withQueues ? NEGOTIATE_MQ_BYTES : NEGOTIATE_BYTES);
      r.setUint32(VENET_NEG_OFF_FEATURES, agreed, true);
      if (!withQueues) return NEGOTIATE_BYTES;
      r.setUint32(VENET_NEG_OFF_QUEUES, port.queues, true);
      return NEGOTIATE_MQ_BYTES;
    }
    return -ERRNO.ENOSYS;
  }

  shm(conn: DeviceConnection, region: ShmRegion): void {
    const port = this.ports.get(conn.id);
    if (!port) throw vbusError('ENOTCONN', `no venet port for connection ${conn.id}`, { conn: conn.id });
    const mem = conn.memory;
    const n = Math.floor(region.queue / VENET_QUEUES_PER_PAIR), role = region.queue % VENET_QUEUES_PER_PAIR;
    const pair = n < port.queues ? port.pair(n) : null;
    if (pair && role === VENET_QUEUE_TX && region.kind === SHM_RING_TO_DEVICE && !pair.tx) {
      pair.tx = deviceConsumer(mem, region);
    } else if (pair && role === VENET_QUEUE_RX && region.kind === SHM_RING_TO_GUEST && !pair.rx) {
      pair.rx = deviceProducer(mem, region);
    } else if (region.queue === VENET_QUEUE_EVENT && region.kind === SHM_RING_TO_GUEST && !port.ev) {
      port.ev = deviceProducer(mem, region);
      this.showLink(port); // the first event says the current link state
    } else {
      throw vbusError('EINVAL', `venet queue ${region.queue} of kind ${region.kind} is not part of the ABI (or set up twice)`, { queue: region.queue, kind: region.kind });
    }
  }

  poll(conn: DeviceConnection): number {
    const port = this.ports.get(conn.id);
    if (!port) return 0;
    let n = 0;
    try {
      n = this.pump(port);
    } catch {
      // A model bug must not reach the host: fail this port only.
      if (!port.faulted) { port.faulted = true; this.stats.faults++; }
    }
    this.stats.flush();
    return n;
  }

  close(conn: DeviceConnection): void {
    const port = this.ports.get(conn.id);
    if (!port) return;
    this.ports.delete(conn.id);
    this.portClosed(port);
  }

  /** True when the port, or one of its pairs, stopped on a corrupt ring (a reset gets it back). */
  faulted(conn: DeviceConnection): boolean {
    const p = this.ports.get(conn.id);
    return p !== undefined && (p.faulted || p.pairs.some((q) => q.faulted));
  }

  attrChanged(name: string, value: string): void {
    applyAttr(this.cfg, name, value);
    if (name === 'enabled') for (const p of this.ports.values()) this.showLink(p);
  }

  release(): void { this.ports.clear(); }

  /** Open ports in opening order, and the next port number (for src/devices/venet/state.ts). */
  openPorts(): { ports: VenetPort[]; next: number } { return { ports: [...this.ports.values()], next: this.portSeq }; }
  /** Sets the next port number (a loaded state continues the saved numbering). */
  continuePortsFrom(next: number): void { this.portSeq = Math.max(this.portSeq, next); }

  // ---- data path ---------------------------------------------------------------

  /**
   * One pass for `port` (subclasses may pump several ports per poll): posts a pending
   * link change, notes its quotas, moves the frames waiting in its TX rings.
   */
  protected pump(port: VenetPort): number {
    this.startPass(port);
    let n = 0;
    for (let moved = 1; moved > 0;) { moved = this.drainRound(port, PAIR_BUDGET); n += moved; }
    this.endPass(port);
    return n;
  }

  /** Before a pass over `port`: a pending link change, and each pair's quota. */
  protected startPass(port: VenetPort): void {
    if (port.linkShown !== this.cfg.enabled) this.showLink(port);
    port.took = 0;
    for (const q of port.pairs) {
      // One peek beyond what is there (+1): an empty ring costs one look, and a ring the
      // guest scribbled over is peeked, so its fault is found. Bounded by the capacity.
      q.quota = q.ready ? q.tx!.ring.used() + 1 : 0;
    }
  }

  /** After a pass over `port`: the TX_DONE event for what it consumed. */
  protected endPass(port: VenetPort): void {
    if (port.took > 0 && (port.negotiated & VENET_F_TX_DONE) !== 0) this.postEvent(port, EVENT_TX_DONE, port.took);
  }

  /**
   * One round over `port`'s pairs (starting one pair further each round): a slice of at
   * most `budget` frames from each. Returns the frames consumed.
   */
  protected drainRound(port: VenetPort, budget: number): number {
    if (port.faulted) return 0;
    const pairs = port.pairs;
    let moved = 0;
    if (pairs.length === 1) moved = this.slice(pairs[0]!, budget);
    else {
      const first = port.nextPair++ % pairs.length;
      for (let i = 0; i < pairs.length; i++) moved += this.slice(pairs[(first + i) % pairs.length]!, budget);
    }
    port.took += moved;
    return moved;
  }

  /**
   * Takes at most `budget` frames (and at most its quota) from `pair`'s TX ring, then
   * releases their space once and publishes what they delivered. Returns how many it consumed.
   */
  private slice(pair: VenetQueuePair, budget: number): number {
    if (!pair.ready || pair.quota <= 0) return 0;
    const port = pair.port;
    const q = pair.tx!;
    const ring = q.ring;
    const stats = this.stats;
    const maxFrame = this.cfg.mtu + ETH_HEADER_BYTES;
    const flagsOk = (port.negotiated & VENET_F_CSUM) !== 0 ? FRAME_F_CSUM_PARTIAL : 0;
    const up = this.cfg.enabled;
    let n = 0;
    let faulted = false;
    while (n < budget && pair.quota > 0) {
      const len = ring.peek();
      if (len < 0) {
        if (ring.faulted) { this.faultPair(pair); faulted = true; }
        break;
      }
      pair.quota -= ringRecordBytes(len);
      const at = ring.peekOffset;
      const flags = ring.tag;
      if (!up || len < ETH_HEADER_BYTES || len > maxFrame || (flags & ~flagsOk) !== 0) {
        stats.drops++; // link down, runt, oversize, or flags not negotiated
      } else {
        stats.rxFrames++;
        stats.rxBytes += len;
        if (this.forward(port, at, len, flags, pair.index) === NO_ROOM) {
          stats.rxFrames--; // offered again later
          stats.rxBytes -= len;
          // This frame stays; the ones before it were handled and are released below.
          if (ring.rewindLast() < 0) { this.faultPair(pair); faulted = true; }
          pair.quota = 0; // the destination is full: this pass is done with the pair
          break;
        }
      }
      n++;
    }
    // Space back to the guest once per slice, after every frame of it was copied out.
    if (!faulted && n > 0 && ring.release() < 0) this.faultPair(pair);
    if (ring.headMoved()) q.notifySpace(); // rule 2 (src/core/ring.ts): records or a skipped wrap pad freed space
    this.commitTouched();
    return n;
  }

  /**
   * Copies a frame from `src[at .. at+len)` into `dst`'s RX ring of pair `pair` modulo
   * its pair count (reserved now, committed at the end of the slice). `srcWords` is the
   * Int32Array over the same memory as `src` when there is one (bus memories: word
   * copies for small frames, see frame-copy.ts). Returns DELIVERED, NO_ROOM (ring full)
   * or DROPPED (that pair is down or faulted, or its ring can never hold the frame).
   */
  protected deliver(dstPort: VenetPort, src: Uint8Array, at: number, len: number, flags: number, pair = 0, srcWords: Int32Array | null = null): number {
    const pairs = dstPort.pairs;
    const dst = pairs.length === 1 ? pairs[0]! : pairs[pair % pairs.length]!;
    if (!dst.ready) return DROPPED;
    const ring = dst.rx!.ring;
    if (len > ring.maxPayload) return DROPPED;
    // Flags a receiver sees: DATA_VALID only if it negotiated checksum offload (the frame
    // never left shared memory, so there is nothing to verify).
    const tag = (dstPort.negotiated & VENET_F_CSUM) !== 0 && (flags & FRAME_F_CSUM_PARTIAL) !== 0 ? FRAME_F_DATA_VALID : 0;
    const to = ring.reserve(len, tag);
    if (to < 0) {
      if (ring.faulted) { this.faultPair(dst); return DROPPED; }
      dst.rx!.notifyData(); // rule 1 (src/core/ring.ts): FULL may have published a wrap pad only the guest can skip
      return NO_ROOM;
    }
    const u8 = dstPort.u8;
    if (u8 === src) u8.copyWithin(to, at, at + len);
    else copyFrame(src, srcWords, at, dstPort, to, len); // across buses: a copy, never shared memory
    if (dst.pendingRx++ === 0) this.touched.push(dst);
    this.stats.txFrames++;
    this.stats.txBytes += len;
    return DELIVERED;
  }

  /** Publishes every pair's delivered frames with one commit and one kick each. */
  protected commitTouched(): void {
    const t = this.touched;
    for (let i = 0; i < t.length; i++) {
      const p = t[i]!;
      p.pendingRx = 0;
      if (p.faulted || p.port.faulted || !p.rx) continue;
      if (p.rx.ring.commit() < 0) { this.faultPair(p); continue; }
      p.rx.notifyData();
    }
    t.length = 0;
  }

  /** Stops the whole `port` (a model error; counted once). */
  protected fault(port: VenetPort): void {
    if (port.faulted) return;
    port.faulted = true;
    this.stats.faults++;
  }

  /** A ring of `pair` is corrupt: that pair stops, the port's others go on (counted once). */
  protected faultPair(pair: VenetQueuePair): void {
    if (pair.faulted || pair.port.faulted) return;
    pair.faulted = true;
    this.stats.faults++;
  }

  /** Posts LINK_UP or LINK_DOWN if the port has not been told the current state. */
  private showLink(port: VenetPort): void {
    const up = this.cfg.enabled;
    if (port.linkShown === up || !port.ev) return;
    if (this.postEvent(port, up ? EVENT_LINK_UP : EVENT_LINK_DOWN, 0)) port.linkShown = up;
    this.stats.flush();
  }

  /** Pushes one event record, kicks the EVENT and RX signals. False if it did not fit. */
  protected postEvent(port: VenetPort, code: number, arg: number): boolean {
    const ev = port.ev;
    const pair0 = port.pairs[0]!;
    if (!ev || port.faulted || pair0.faulted) return false;
    this.evView.setUint32(EVENT_OFF_CODE, code, true);
    this.evView.setUint32(EVENT_OFF_ARG, arg >>> 0, true);
    const st = ev.ring.push(this.evBuf, 0);
    if (st < 0) {
      if (ev.ring.faulted) this.faultPair(pair0); // the EVENT ring is pair 0's
      return false;
    }
    ev.notifyData();
    port.rx?.notifyData(); // drivers wait on the RX signal alone (see abi.ts)
    return true;
  }
}

/**
 * The guest driver for the virtual-ethernet interface: opens a venet device (any class),
 * sets up its TX, RX and EVENT rings, and offers frames in and out (the data path of
 * one queue pair is in ./queue.ts; the driver is pair 0's queue).
 *
 * The device raises the RX signal after posting an event too, so one waiter covers the
 * RX and EVENT rings: {@link VenetDriver.poll} drains both, {@link VenetDriver.waitSync}
 * and the receive loop wake for either.
 *
 * Multiqueue: `openVenet(guest, id, { queues: N })` negotiates up to N TX/RX pairs
 * (VENET_F_MQ; the admin's `queues` caps it; {@link VenetDriver.queues} says how many
 * were granted) and sets them all up. The driver drives pair 0; `queueHandle(p)`
 * describes pair p as plain data for a child guest (`guest.spawnChild(url, handle)`),
 * which drives it with attachVenetQueue: one thread per pair, no lock.
 */
import { Status } from '../../core/status.js';
import { checkInterface, declareInterfaceVersions, type Connection, type ConnectionFaultEvent, type ConnectionStatus } from '../../guest/connection.js';
import type { GuestConnector } from '../../guest/connector.js';
import type { ConsumerEnd, ProducerEnd } from '../../core/queue.js';
import type { ShmRegion } from '../../connector/types.js';
import { vbusError } from '../../errors.js';
import {
  VENET_INTERFACE, VENET_VERSION, VENET_QUEUE_TX, VENET_QUEUE_RX, VENET_QUEUE_EVENT, VENET_FUNC_QUERY, VENET_FUNC_NEGOTIATE,
  INFO_BYTES, INFO_OFF_CLIENT_MAC, INFO_OFF_HOST_MAC, INFO_OFF_MTU, INFO_OFF_LINK, INFO_OFF_NEGOTIATED,
  NEGOTIATE_BYTES, NEGOTIATE_MQ_BYTES, VENET_NEG_OFF_FEATURES, VENET_NEG_OFF_QUEUES, VENET_F_MQ, VENET_MAX_QUEUES, venetQueue,
  ETH_ALEN, EVENT_OFF_CODE, EVENT_OFF_ARG, EVENT_LINK_UP, EVENT_LINK_DOWN, EVENT_TX_DONE,
} from './abi.js';
import { VenetQueue, type VenetQueueHandle } from './queue.js';

export type { FrameListener, FrameSpanListener, ReceivedFrame, VenetQueueHandle } from './queue.js';

declareInterfaceVersions(VENET_INTERFACE, [VENET_VERSION]);

/** Ring sizes a driver asks for (bytes of data area; powers of two). */
export interface VenetOptions {
  /** TX ring bytes (default 256 KiB; each pair's). */
  txBytes?: number;
  /** RX ring bytes (default 256 KiB; each pair's). */
  rxBytes?: number;
  /** EVENT ring bytes (default 4 KiB). */
  eventBytes?: number;
  /** Most frames one poll pass delivers before releasing ring space (default 256). */
  pollBudget?: number;
  /** Deadline of each call opening and setting up the device, ms (ETIMEDOUT). Default: the guest's call timeout. */
  timeoutMs?: number;
  /**
   * TX/RX queue pairs to ask for (1..64, default 1): more than 1 negotiates VENET_F_MQ;
   * the device grants at most its `queues` attribute.
   */
  queues?: number;
}

/** Called on LINK_UP (true) / LINK_DOWN (false). */
export type LinkListener = (up: boolean) => void;

const DEFAULT_TX = 256 * 1024;
const DEFAULT_RX = 256 * 1024;
const DEFAULT_EVENT = 4096;

/** What a driver keeps across a save of its bus (Connection.onSave / resumed). */
interface SavedVenetDriver { info: Uint8Array; link: boolean; features: number; queues: number }

function savedDriver(v: unknown): SavedVenetDriver | null {
  const s = v as Partial<SavedVenetDriver> | null;
  return s && s.info instanceof Uint8Array && s.info.length >= INFO_BYTES && typeof s.link === 'boolean'
    && Number.isInteger(s.features) && Number.isInteger(s.queues) && s.queues! >= 1 ? s as SavedVenetDriver : null;
}

/** What opening finds out and sets up before the queue of pair 0 exists. */
interface Opened {
  resumed: boolean;
  link?: boolean;
  info: Uint8Array;
  events: ConsumerEnd<ShmRegion>;
  tx: ProducerEnd<ShmRegion>;
  rx: ConsumerEnd<ShmRegion>;
  features: number;
  queues: number;
  others: Array<readonly [ShmRegion, ShmRegion]>;
}

export class VenetDriver extends VenetQueue {
  /** The device side's MAC (`host_mac`). */
  readonly hostMac: Uint8Array;
  /** The EVENT ring (exposed for tests and tools; new ends after a reset). */
  events: ConsumerEnd<ShmRegion>;
  /** Feature bits agreed with {@link negotiate} (0 until then). */
  features = 0;
  /** Queue pairs the device granted (1 without multiqueue). */
  readonly queues: number;
  /** NEGOTIATE calls this driver made (a driver resumed from a saved bus makes none: the device kept its features). */
  negotiations = 0;
  /** Frames the device reported consumed (EVENT_TX_DONE, needs VENET_F_TX_DONE). */
  txCompleted = 0;
  private link: boolean;
  private readonly linkListeners = new Set<LinkListener>();
  private readonly evScratch = new Uint8Array(64);
  private readonly evView: DataView;
  private readonly callOpts: { timeoutMs?: number };
  private readonly wantQueues: number;
  private readonly others: ReadonlyArray<readonly [ShmRegion, ShmRegion]>;
  private readonly busName: string;
  /** Features last offered with negotiate() (offered again after a reset). */
  private offered: number | null = null;
  /** Resets whose rings this driver attached to. */
  private attachedResets = 0;
  private readonly faultListeners = new Set<(e: ConnectionFaultEvent) => void>();

  /** @internal Use {@link openVenet}. */
  constructor(readonly conn: Connection, opts: VenetOptions = {}, busName = '') {
    const o = setUp(conn, opts);
    const v = new DataView(o.info.buffer, o.info.byteOffset, o.info.length);
    super(o.tx, o.rx, 0, {
      mac: o.info.slice(INFO_OFF_CLIENT_MAC, INFO_OFF_CLIENT_MAC + ETH_ALEN),
      mtu: v.getUint32(INFO_OFF_MTU, true),
      pollBudget: opts.pollBudget ?? 256,
    });
    this.callOpts = callOpts(opts);
    this.hostMac = o.info.slice(INFO_OFF_HOST_MAC, INFO_OFF_HOST_MAC + ETH_ALEN);
    this.link = o.link ?? v.getUint32(INFO_OFF_LINK, true) === 1;
    this.features = o.features;
    this.queues = o.queues;
    this.negotiations = (opts.queues ?? 1) > 1 && !o.resumed ? 1 : 0; // the multiqueue NEGOTIATE at open
    // A save of the bus keeps what this driver learnt, so its resumed run asks nothing again.
    conn.onSave((): SavedVenetDriver => ({ info: o.info.slice(), link: this.link, features: this.features, queues: this.queues }));
    this.wantQueues = opts.queues ?? 1;
    this.others = o.others;
    this.busName = busName;
    this.events = o.events;
    this.evView = new DataView(this.evScratch.buffer);
    // An admin's bus reset re-formats a faulted connection's rings and says so (DEVRESET):
    // attach again, outside the event dispatch (it calls the device). Pair 0's ends only:
    // children driving other pairs attach their handles again.
    conn.onFault((e) => {
      if (e.kind === 'reset' && e.resets > this.attachedResets) void Promise.resolve().then(() => { if (!this.closed && e.resets > this.attachedResets) this.reattach(e.resets); });
      for (const fn of this.faultListeners) fn(e);
    });
  }

  /** True when the host said this connection needs a reset (see {@link reset}). */
  get needsReset(): boolean { return this.conn.needsReset; }

  /** The host's view of this connection now (asks it: a call). */
  status(): ConnectionStatus { return this.conn.status(this.callOpts); }

  /**
   * Listens for this device's fault and reset events: 'fault' (the host found a ring of
   * this connection corrupt: frames stop until a reset; `queue` names the ring, so with
   * multiqueue the pair) and 'reset'. Returns an unsubscribe function.
   */
  onFault(fn: (e: ConnectionFaultEvent) => void): () => void {
    this.faultListeners.add(fn);
    return () => { this.faultListeners.delete(fn); };
  }

  /**
   * Resets the device's rings (virtio's device reset, for this connection): the host
   * re-formats them, the device starts the port afresh (with the pairs it had), this
   * driver attaches new ends for pair 0 and the EVENT ring and offers its features again.
   * Frames in the rings at the time are lost; listeners stay. Throws VbusError if the
   * call fails (ENODEV once unplugged).
   */
  reset(): void {
    if (this.closed) throw vbusError('EBADF', `venet device ${this.conn.deviceId}: reset after close`);
    this.reattach(this.conn.reset(this.callOpts));
  }

  private reattach(resets: number): void {
    this.attachedResets = resets;
    this.events = this.events.renew();
    this.rx = this.rx.renew();
    this.tx = this.tx.renew();
    this.pendingLinkQuery();
    if (this.offered !== null) this.negotiate(this.offered);
  }

  /** After a reset the device posts the link state again; until then the last known state stands. */
  private pendingLinkQuery(): void {
    const info = this.conn.call(VENET_FUNC_QUERY, undefined, this.callOpts);
    if (info.length >= INFO_BYTES) this.link = new DataView(info.buffer, info.byteOffset, info.length).getUint32(INFO_OFF_LINK, true) === 1;
  }

  /** Link state as last reported by the device. */
  get linkUp(): boolean { return this.link; }

  /**
   * Offers feature bits; returns (and keeps) the negotiated set: what the device
   * supports and its admin allows (a driver opened with `queues` > 1 keeps asking for
   * its pairs: VENET_F_MQ stays in). Throws VbusError if the call fails.
   */
  negotiate(features: number): number {
    this.offered = features >>> 0;
    this.negotiations++;
    this.features = negotiateCall(this.conn, features, this.wantQueues, this.callOpts).features;
    return this.features;
  }

  /**
   * Queue pair `pair` (1 .. queues-1) as plain data for a child guest on this bus, which
   * drives it with attachVenetQueue. Each pair must have one driver at a time.
   */
  queueHandle(pair: number): VenetQueueHandle {
    const r = this.others[pair - 1];
    if (!Number.isInteger(pair) || !r) {
      throw vbusError('EINVAL', `venet ${this.conn.deviceId}: queue pair ${pair} is not one this driver can hand out (pairs 1..${this.queues - 1})`, { pair, queues: this.queues });
    }
    return {
      kind: 'venet-queue', bus: this.busName, deviceId: this.conn.deviceId, pair, queues: this.queues,
      tx: r[0], rx: r[1], mac: this.mac.slice(), mtu: this.mtu, pollBudget: 256,
    };
  }

  /** Adds a link listener (called on every LINK_UP / LINK_DOWN). Starts the async loop. */
  onLink(fn: LinkListener): () => void {
    this.linkListeners.add(fn);
    this.startLoop();
    return () => { this.linkListeners.delete(fn); };
  }

  /**
   * Drains the EVENT and RX rings now, calling the listeners. Returns the number of
   * frames delivered (events are not counted). Never blocks, never throws for ring state.
   */
  override poll(): number {
    this.pollEvents();
    return this.pollFrames();
  }

  protected override hasWork(): boolean { return this.rx.ring.used() > 0 || this.events.ring.used() > 0; }

  protected override onClose(): void {
    try { this.conn.close(); } catch { /* the device is gone already */ }
  }

  private pollEvents(): void {
    const ring = this.events.ring;
    for (;;) {
      const len = ring.pop(this.evScratch);
      if (len < 0) {
        if (len === Status.NOSPACE) { ring.skip(1); continue; } // not an event record: skip it
        return;
      }
      if (len < 8) continue;
      const code = this.evView.getUint32(EVENT_OFF_CODE, true);
      const arg = this.evView.getUint32(EVENT_OFF_ARG, true);
      if (code === EVENT_LINK_UP || code === EVENT_LINK_DOWN) {
        this.link = code === EVENT_LINK_UP;
        for (const fn of this.linkListeners) fn(this.link);
      } else if (code === EVENT_TX_DONE) {
        this.txCompleted += arg;
      }
    }
  }
}

function callOpts(opts: VenetOptions | undefined): { timeoutMs?: number } {
  return opts?.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {};
}

/** NEGOTIATE: 4 bytes each way for one queue pair (as before multiqueue), 8 with a pair count. */
function negotiateCall(conn: Connection, features: number, queues: number, opts: { timeoutMs?: number }): { features: number; queues: number } {
  const mq = queues > 1;
  const req = new Uint8Array(mq ? NEGOTIATE_MQ_BYTES : NEGOTIATE_BYTES);
  const v = new DataView(req.buffer);
  v.setUint32(VENET_NEG_OFF_FEATURES, (mq ? features | VENET_F_MQ : features) >>> 0, true);
  if (mq) v.setUint32(VENET_NEG_OFF_QUEUES, queues, true);
  const out = conn.call(VENET_FUNC_NEGOTIATE, req, opts);
  if (out.length < req.length) throw vbusError('EPROTO', `negotiate answered ${out.length} bytes`, { len: out.length });
  const r = new DataView(out.buffer, out.byteOffset, out.length);
  const agreed = r.getUint32(VENET_NEG_OFF_FEATURES, true);
  if (!mq) return { features: agreed, queues: 1 };
  const granted = (agreed & VENET_F_MQ) !== 0 ? r.getUint32(VENET_NEG_OFF_QUEUES, true) : 1;
  if (granted < 1 || granted > queues) throw vbusError('EPROTO', `venet: the device granted ${granted} queue pairs for ${queues} asked`, { granted, queues });
  return { features: agreed, queues: granted };
}

/** QUERY, the multiqueue NEGOTIATE (if asked for), then the rings: EVENT first (the device answers its setup with the link state). */
function setUp(conn: Connection, opts: VenetOptions): Opened {
  const saved = savedDriver(conn.resumed);
  if (saved && saved.queues <= (opts.queues ?? 1)) {
    // A resumed connection: the device kept the port, its features and its rings (the
    // bus memory came back with them); the rings are taken back as they are.
    return { resumed: true, link: saved.link, info: saved.info, features: saved.features, queues: saved.queues, ...rings(conn, opts, saved.queues) };
  }
  const co = callOpts(opts);
  const info = conn.call(VENET_FUNC_QUERY, undefined, co);
  if (info.length < INFO_BYTES) {
    throw vbusError('EPROTO', `device ${conn.deviceId} answered the venet query with ${info.length} bytes, expected ${INFO_BYTES}`, { len: info.length });
  }
  let features = new DataView(info.buffer, info.byteOffset, info.length).getUint32(INFO_OFF_NEGOTIATED, true);
  let queues = 1;
  const want = opts.queues ?? 1;
  if (want > 1) ({ features, queues } = negotiateCall(conn, features, want, co));
  return { resumed: false, info, features, queues, ...rings(conn, opts, queues) };
}

/** The rings of `queues` pairs: EVENT, pair 0's RX and TX, then each further pair's (a resumed connection gets its saved regions back). */
function rings(conn: Connection, opts: VenetOptions, queues: number): Pick<Opened, 'events' | 'tx' | 'rx' | 'others'> {
  const txBytes = opts.txBytes ?? DEFAULT_TX, rxBytes = opts.rxBytes ?? DEFAULT_RX;
  const events = conn.rxQueue(VENET_QUEUE_EVENT, opts.eventBytes ?? DEFAULT_EVENT);
  const rx = conn.rxQueue(VENET_QUEUE_RX, rxBytes);
  const tx = conn.txQueue(VENET_QUEUE_TX, txBytes);
  const others: Array<readonly [ShmRegion, ShmRegion]> = [];
  for (let p = 1; p < queues; p++) {
    const prx = conn.rxQueue(venetQueue(p, VENET_QUEUE_RX), rxBytes).region;
    const ptx = conn.txQueue(venetQueue(p, VENET_QUEUE_TX), txBytes).region;
    others.push([ptx, prx]);
  }
  return { events, tx, rx, others };
}

/**
 * Opens venet device `deviceId` on the guest's bus: DEVOPEN with the venet version,
 * query, and ring setup. Throws VbusError (ENOENT for a missing device, ENOSPC when
 * the bus memory has no room for the rings, EINVAL for bad options, ...).
 */
export function openVenet(guest: GuestConnector, deviceId: number, opts?: VenetOptions): VenetDriver {
  const q = opts?.queues ?? 1;
  if (!Number.isInteger(q) || q < 1 || q > VENET_MAX_QUEUES) {
    throw vbusError('EINVAL', `venet: queues ${q} must be an integer from 1 to ${VENET_MAX_QUEUES}`, { queues: q });
  }
  checkInterface(guest, deviceId, VENET_INTERFACE, 'openVenet');
  const conn = guest.open(deviceId, VENET_VERSION, callOpts(opts));
  try {
    return new VenetDriver(conn, opts, guest.busName);
  } catch (e) {
    try { conn.close(); } catch { /* keep the first error */ }
    throw e;
  }
}

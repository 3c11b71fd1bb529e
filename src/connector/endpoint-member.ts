/**
 * The host's records of one bus's members and their connections: EndpointMember (a
 * guest's call slot, handle table, and event ring with its bounded backlog) and
 * HostConnection (what a device model sees of one DEVOPEN: the DeviceConnection fields,
 * nothing of the endpoint behind it).
 */
import { PrefixView } from '../core/prefix-view.js';
import { EV_DEVADD, EV_DEVEVENT, EV_RESYNC_BEGIN, EV_RESYNC_END } from '../../assembly/layout/event.js';
import type { BusMemory } from '../core/bus-memory.js';
import { RingProducer, type RingDescriptor } from '../core/ring.js';
import { Notifier } from '../core/signal.js';
import { Status } from '../core/status.js';
import { HT_ENTRIES } from './decode-tables.js';
import { encodeDevAdd, encodeDevEvent, EMPTY_EVENT } from './event-records.js';
import type { ServedSlot, InFlight } from './slot-server.js';
import type { ConnectorModel, DeviceConnection, ShmRegion } from './types.js';
import type { DevicePlacement } from './placement.js';
import type { ConnFault } from './conn-fault.js';

export interface EndpointDevice {
  id: number;
  iface: string;
  /** `iface` as DEVADD carries it (checked against EV_IFACE_MAX at link). */
  ifaceBytes: Uint8Array;
  gen: number;
  model: ConnectorModel;
  /** Where the model runs, when not on the host thread (backend). */
  placement: DevicePlacement | undefined;
  conns: Set<HostConnection>;
}

let nextConnId = 1;

export class HostConnection implements DeviceConnection {
  readonly id: number;
  readonly shms: ShmRegion[] = [];
  /** Wakes the ring watchers of this connection when it closes. */
  readonly watchers: Array<() => void> = [];
  open = true;
  /** Set when the host found this connection faulted (NEEDS_RESET); cleared by a reset. Host memory only. */
  fault: ConnFault | null = null;
  /** Resets done on this connection (the guest's reset calls and bus resets). */
  resets = 0;
  constructor(
    readonly memory: BusMemory,
    readonly busName: string,
    /** The endpoint's record of the member (not part of DeviceConnection). */
    readonly member: EndpointMember,
    readonly handle: number,
    readonly device: EndpointDevice,
    readonly version: number,
  ) {
    this.id = nextConnId++;
  }
  get memberId(): number { return this.member.memberId; }
  get deviceId(): number { return this.device.id; }
  postEvent(code: number, arg = 0): boolean {
    if (!this.open) return false;
    return this.member.postEvent(EV_DEVEVENT, encodeDevEvent(this.device.id, this.handle, code, arg));
  }
}

/** Events held for one member whose event ring is full (see EndpointMember.backlog). */
export const EVENT_BACKLOG_MAX = 4096;

export class EndpointMember implements ServedSlot {
  readonly handles: (HostConnection | undefined)[] = new Array(HT_ENTRIES);
  inflight: InFlight | null = null;
  /** False once the member left: its slot is freed and nothing is answered on it. */
  live = true;
  /** A member restored from saved tables whose guest has not booted yet (BusEndpoint.adoptTables). */
  adopted = false;
  /** The generation the host gave the call slot (restored by a bus reset; guest memory may say otherwise). */
  slotGen = 0;
  events: RingProducer;
  readonly eventNotifier: Notifier;
  /**
   * Events that did not fit the ring; flushed when it drains, in order. Bounded: a guest
   * that never reads its events cannot make the host hold an unbounded queue for it.
   * Past EVENT_BACKLOG_MAX the queue is replaced by a resync (RESYNC_BEGIN, a DEVADD for
   * every device on the bus now, RESYNC_END), so the guest's view of its bus ends up
   * right however late it reads; the replaced events are counted as dropped.
   */
  readonly backlog: Array<{ type: number; rec: Uint8Array }> = [];
  /** Events dropped because the backlog was full. */
  eventsDropped = 0;
  /** Times the backlog overflowed and was replaced by a resync. */
  resyncs = 0;

  constructor(
    readonly memberId: number,
    readonly bit: number,
    readonly slot: number,
    readonly hTab: number,
    readonly eventRing: RingDescriptor,
    readonly eventSignal: number,
    /** The slot's payload area (request in, reply out). */
    readonly payloadView: Uint8Array,
    bus: BusMemory,
    /** The devices on the bus now (for a resync). */
    private readonly snapshot: () => Iterable<{ id: number; ifaceBytes: Uint8Array }>,
    /** Arranges a later flush (the guest frees ring space without telling us). */
    private readonly onBacklog: () => void,
  ) {
    this.events = new RingProducer(bus, eventRing);
    this.eventNotifier = new Notifier(bus, eventSignal);
    this.request = new PrefixView(payloadView);
  }

  /** The request's bytes as the model sees them (a kept view, src/core/prefix-view.ts). */
  readonly request: PrefixView;

  /** Queues an event record (encoded by event-records.ts). Returns false only if the ring faulted. */
  postEvent(type: number, rec: Uint8Array): boolean {
    if (this.backlog.length > 0 && !this.flush()) return this.queue(type, rec);
    const st = this.write(type, rec);
    if (st === Status.FULL) return this.queue(type, rec);
    return st === 0;
  }

  private queue(type: number, rec: Uint8Array): boolean {
    if (this.backlog.length >= EVENT_BACKLOG_MAX) {
      // The snapshot is taken now, after the change this event reports, so it covers it.
      this.eventsDropped += this.backlog.length + 1;
      this.backlog.length = 0;
      this.backlog.push({ type: EV_RESYNC_BEGIN, rec: EMPTY_EVENT });
      for (const d of this.snapshot()) this.backlog.push({ type: EV_DEVADD, rec: encodeDevAdd(d.id, d.ifaceBytes) });
      this.backlog.push({ type: EV_RESYNC_END, rec: EMPTY_EVENT });
      this.resyncs++;
    } else {
      this.backlog.push({ type, rec });
    }
    this.onBacklog();
    return true;
  }

  /** Writes queued events; returns true when the backlog is empty. */
  flush(): boolean {
    while (this.backlog.length > 0) {
      const e = this.backlog[0]!;
      const st = this.write(e.type, e.rec);
      if (st !== 0) return false;
      this.backlog.shift();
    }
    return true;
  }

  /**
   * Bus reset: the event ring was re-formatted; a new producer end (the old one may be
   * sticky-faulted), and the events still queued go after a resync of the whole bus.
   */
  reattachEvents(bus: BusMemory): void {
    this.events = new RingProducer(bus, this.eventRing);
    this.backlog.length = 0;
    this.backlog.push({ type: EV_RESYNC_BEGIN, rec: EMPTY_EVENT });
    for (const d of this.snapshot()) this.backlog.push({ type: EV_DEVADD, rec: encodeDevAdd(d.id, d.ifaceBytes) });
    this.backlog.push({ type: EV_RESYNC_END, rec: EMPTY_EVENT });
    this.resyncs++;
    this.onBacklog();
  }

  private write(type: number, rec: Uint8Array): number {
    const at = this.events.reserve(rec.length, type);
    if (at < 0) return at;
    this.events.bus.u8.set(rec, at);
    this.events.commit();
    this.eventNotifier.raise(); // after the commit published the record
    return 0;
  }
}

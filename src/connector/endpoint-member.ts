/**
 * The host's records of one bus's members and their connections, used by BusEndpoint:
 * EndpointMember (a guest's call slot, handle table, and event ring with its bounded
 * backlog) and HostConnection (what a device model sees of one DEVOPEN).
 */
import { EV_DEVADD, EV_DEVEVENT, EV_RESYNC_BEGIN, EV_RESYNC_END } from '../../assembly/layout/event.js';
import type { BusMemory } from '../core/bus-memory.js';
import { RingProducer, type RingDescriptor } from '../core/ring.js';
import { Notifier } from '../core/signal.js';
import { HT_ENTRIES } from './decode-tables.js';
import type { ConnectorModel, DeviceConnection, ShmRegion } from './types.js';
import type { BusEndpoint } from './bus-endpoint.js';

export interface EndpointDevice {
  id: number;
  iface: string;
  gen: number;
  model: ConnectorModel;
  conns: Set<HostConnection>;
}

export interface InFlight {
  seq: number;
  conn: HostConnection;
  answered: boolean;
}

export class HostConnection implements DeviceConnection {
  readonly id: number;
  readonly shms: ShmRegion[] = [];
  /** Wakes the ring watchers of this connection when it closes. */
  readonly watchers: Array<() => void> = [];
  open = true;
  constructor(
    readonly endpoint: BusEndpoint,
    readonly member: EndpointMember,
    readonly handle: number,
    readonly device: EndpointDevice,
    readonly version: number,
  ) {
    this.id = nextConnId++;
  }
  get memory(): BusMemory { return this.endpoint.memory; }
  get busName(): string { return this.endpoint.busName; }
  get memberId(): number { return this.member.memberId; }
  get deviceId(): number { return this.device.id; }
  postEvent(code: number, arg = 0): boolean {
    if (!this.open) return false;
    return this.member.postEvent(EV_DEVEVENT, [this.device.id, this.handle, code >>> 0, arg >>> 0]);
  }
}
let nextConnId = 1;

/** Events held for one member whose event ring is full (see EndpointMember.backlog). */
export const EVENT_BACKLOG_MAX = 4096;

export class EndpointMember {
  readonly handles: (HostConnection | undefined)[] = new Array(HT_ENTRIES);
  inflight: InFlight | null = null;
  readonly events: RingProducer;
  readonly eventNotifier: Notifier;
  /**
   * Events that did not fit the ring; flushed when it drains, in order. Bounded: a guest
   * that never reads its events cannot make the host hold an unbounded queue for it.
   * Past EVENT_BACKLOG_MAX the queue is replaced by a resync (RESYNC_BEGIN, a DEVADD for
   * every device on the bus now, RESYNC_END), so the guest's view of its bus ends up
   * right however late it reads; the replaced events are counted as dropped.
   */
  readonly backlog: Array<{ type: number; words: number[]; text?: string }> = [];
  /** Events dropped because the backlog was full. */
  eventsDropped = 0;
  constructor(
    readonly memberId: number,
    readonly bit: number,
    readonly slot: number,
    readonly hTab: number,
    readonly eventRing: RingDescriptor,
    readonly eventSignal: number,
    readonly payloadView: Uint8Array,
    bus: BusMemory,
  ) {
    this.events = new RingProducer(bus, eventRing);
    this.eventNotifier = new Notifier(bus, eventSignal);
  }

  /** Queues an event record (u32 words, then optional UTF-8 text). Returns false only if the ring faulted. */
  postEvent(type: number, words: number[], text?: string): boolean {
    if (this.backlog.length > 0 && !this.flush()) return this.queue(type, words, text);
    const st = this.write(type, words, text);
    if (st === -2 /* FULL */) return this.queue(type, words, text);
    return st === 0;
  }

  private queue(type: number, words: number[], text?: string): boolean {
    if (this.backlog.length >= EVENT_BACKLOG_MAX) {
      // The snapshot is taken now, after the change this event reports, so it covers it.
      this.eventsDropped += this.backlog.length + 1;
      this.backlog.length = 0;
      this.backlog.push({ type: EV_RESYNC_BEGIN, words: [] });
      for (const d of this.snapshot()) this.backlog.push({ type: EV_DEVADD, words: [d.id], text: d.iface });
      this.backlog.push({ type: EV_RESYNC_END, words: [] });
      this.resyncs++;
    } else {
      this.backlog.push({ type, words, ...(text !== undefined ? { text } : {}) });
    }
    this.onBacklog();
    return true;
  }

  /** Set by the endpoint: the devices on the bus now (for a resync). */
  snapshot: () => Array<{ id: number; iface: string }> = () => [];
  /** Times the backlog overflowed and was replaced by a resync. */
  resyncs = 0;

  /** Set by the endpoint: arranges a later flush (the guest frees ring space without telling us). */
  onBacklog: () => void = () => {};

  /** Writes queued events; returns true when the backlog is empty. */
  flush(): boolean {
    while (this.backlog.length > 0) {
      const e = this.backlog[0]!;
      const st = this.write(e.type, e.words, e.text);
      if (st !== 0) return false;
      this.backlog.shift();
    }
    return true;
  }

  private write(type: number, words: number[], text?: string): number {
    const bytes = text !== undefined ? new TextEncoder().encode(text) : null;
    const len = words.length * 4 + (bytes ? bytes.length : 0);
    const at = this.events.reserve(len, type);
    if (at < 0) return at;
    const bus = this.events.bus;
    for (let i = 0; i < words.length; i++) bus.view.setUint32(at + i * 4, words[i]!, true);
    if (bytes) bus.u8.set(bytes, at + words.length * 4);
    this.events.commit();
    this.eventNotifier.raise(); // after the commit published the record
    return 0;
  }
}

/**
 * Feeds the stats region from a device model without touching the connector: a class
 * spec is wrapped so each model it creates counts into its device's slot. The wrapper
 * sees every DEVCALL (calls, bytes in and out, errors, a latency sample every
 * {@link LATENCY_SAMPLE_EVERY} calls), every poll (records the model reports), and the
 * rings each connection sets up (shm), whose words it reads once per poll:
 * occupancy before the drain (its high-water mark), the device-side index after it
 * (bytes moved since the ring was set up), the shm-signal counters (raised and
 * suppressed) and the FAULT word. All plain loads and stores on the thread that runs
 * the model; nothing is added per record. A backend-placed model is wrapped the same
 * way in its pool thread (src/connector/backend/backend-stats.ts): the host assigns its
 * slots, the thread writes them.
 */
import type { DeviceClassSpec } from '../host/device-class.js';
import type { DeviceModel } from '../host/device-model.js';
import type { DeviceConnection, ShmRegion } from '../connector/types.js';
import { SHM_RING_TO_DEVICE, SHM_RING_TO_GUEST } from '../connector/device-queues.js';
import { RING_OFF_FAULT, RING_OFF_HEAD, RING_OFF_TAIL } from '../../assembly/layout/ring.js';
import { SIG_OFF_RAISED, SIG_OFF_SUPPRESSED } from '../../assembly/layout/signal.js';
import {
  DEV_CALL_BYTES_IN, DEV_CALL_BYTES_OUT, DEV_CALL_ERRORS, DEV_CALLS, DEV_POLLS, DEV_RECORDS, DIR_TO_DEVICE, DIR_TO_GUEST,
  RING_BYTES, RING_FAULTS, RING_HIGH_WATER, RING_RAISED, RING_SUPPRESSED, RING_USED, RING_WAKEUPS,
} from './layout.js';
import type { DeviceStats, RingStats, StatsRegion } from './region.js';

/** A ring as the observer asks for its slot (the region's fields, and where the ring sits in its bus). */
export type RingClaim = { bus: string; member: number; queue: number; direction: number; capacity: number; offset: number };

/** Who assigns and frees ring slots (see DeviceObserver). */
export interface RingSlots {
  claim(dev: DeviceStats, ring: RingClaim): RingStats | null;
  release(r: RingStats): void;
}

/** One call in this many has its latency measured (a clock read costs more than the counters). */
export const LATENCY_SAMPLE_EVERY = 16;

/** A ring being counted, with the word indices it reads precomputed (the loop does no address arithmetic). */
interface WatchedRing {
  connId: number;
  stats: RingStats;
  f: Float64Array;
  u32: Uint32Array;
  capacity: number;
  tail: number;
  head: number;
  /** The index the device moves: HEAD of a to-device ring, TAIL of a to-guest ring. */
  mine: number;
  fault: number;
  /** Words of the ring's data signal (0: no signal). */
  raised: number;
  suppressed: number;
  last: number;
}

/** A device's observer: its slot and the rings of its open connections. */
export class DeviceObserver {
  /** Flat list: the poll wrapper walks it without allocating an iterator. */
  private rings: WatchedRing[] = [];
  private sampleIn = LATENCY_SAMPLE_EVERY;

  /**
   * `rings` assigns a ring its slot: the host claims one from the region; a backend
   * thread is handed the slot the host claimed for it (src/connector/backend/backend-stats.ts).
   * `null`: the ring goes uncounted.
   */
  constructor(
    private readonly region: StatsRegion,
    readonly stats: DeviceStats,
    private readonly rings_: RingSlots = { claim: (d, r) => region.claimRing(d, r), release: (r) => region.releaseRing(r) },
  ) {}

  /** Wraps the hooks of `model` in place (a hook the model lacks stays missing). */
  attach(model: DeviceModel): DeviceModel {
    const f = this.stats.f;
    const call = model.call;
    if (call) {
      model.call = (conn, func, payload, out) => {
        f[DEV_CALLS]!++;
        f[DEV_CALL_BYTES_IN]! += payload.length;
        if (--this.sampleIn === 0) return this.timedCall(model, call, conn, func, payload, out);
        const r = call.call(model, conn, func, payload, out);
        if (typeof r === 'number') { if (r >= 0) f[DEV_CALL_BYTES_OUT]! += r; else f[DEV_CALL_ERRORS]!++; }
        else r.then((n) => { if (n >= 0) f[DEV_CALL_BYTES_OUT]! += n; else f[DEV_CALL_ERRORS]!++; }, () => { f[DEV_CALL_ERRORS]!++; });
        return r;
      };
    }
    const poll = model.poll;
    if (poll) {
      model.poll = (conn) => {
        const rings = this.rings;
        if (rings.length > 0) highWater(rings);
        const n = poll.call(model, conn);
        f[DEV_POLLS]!++;
        if (n > 0) f[DEV_RECORDS]! += n;
        if (rings.length > 0) moved(rings);
        return n;
      };
    }
    const shm = model.shm?.bind(model);
    model.shm = (conn, region) => {
      shm?.(conn, region); // a refusal throws before the ring is counted
      if (region.kind === SHM_RING_TO_DEVICE || region.kind === SHM_RING_TO_GUEST) this.watch(conn, region);
    };
    const close = model.close?.bind(model);
    model.close = (conn) => { this.forget(conn.id); close?.(conn); };
    const release = model.release?.bind(model);
    model.release = () => {
      for (const r of this.rings) this.rings_.release(r.stats);
      this.rings = [];
      this.region.releaseDevice(this.stats);
      release?.();
    };
    return model;
  }

  /** One call in LATENCY_SAMPLE_EVERY: the same, timed. */
  private timedCall(model: DeviceModel, call: NonNullable<DeviceModel['call']>, ...args: Parameters<NonNullable<DeviceModel['call']>>): ReturnType<NonNullable<DeviceModel['call']>> {
    const f = this.stats.f;
    this.sampleIn = LATENCY_SAMPLE_EVERY;
    const t0 = performance.now();
    const r = call.apply(model, args);
    const done = (n: number): void => {
      if (n >= 0) f[DEV_CALL_BYTES_OUT]! += n; else f[DEV_CALL_ERRORS]!++;
      this.stats.latency((performance.now() - t0) * 1000);
    };
    if (typeof r === 'number') done(r);
    else r.then(done, () => { f[DEV_CALL_ERRORS]!++; });
    return r;
  }

  private watch(conn: DeviceConnection, region: ShmRegion): void {
    const toDevice = region.kind === SHM_RING_TO_DEVICE;
    let stats: RingStats | null;
    try {
      stats = this.rings_.claim(this.stats, { bus: conn.busName, member: conn.memberId, queue: region.queue, direction: toDevice ? DIR_TO_DEVICE : DIR_TO_GUEST, capacity: region.bytes, offset: region.offset });
    } catch { return; } // no free slot: this ring goes uncounted, the data path is unaffected
    if (!stats) return;
    const u32 = conn.memory.u32;
    const o = region.offset;
    const sig = region.dataSignal; // its producer's wake-ups of its consumer (the guest's for to-device, the device's for to-guest)
    const mine = (o + (toDevice ? RING_OFF_HEAD : RING_OFF_TAIL)) >> 2;
    this.rings = [...this.rings, {
      connId: conn.id, stats, f: stats.f, u32, capacity: region.bytes,
      tail: (o + RING_OFF_TAIL) >> 2, head: (o + RING_OFF_HEAD) >> 2, mine, fault: (o + RING_OFF_FAULT) >> 2,
      raised: sig ? (sig + SIG_OFF_RAISED) >> 2 : 0, suppressed: sig ? (sig + SIG_OFF_SUPPRESSED) >> 2 : 0,
      last: u32[mine]!,
    }];
  }

  private forget(connId: number): void {
    for (const r of this.rings) if (r.connId === connId) this.rings_.release(r.stats);
    this.rings = this.rings.filter((r) => r.connId !== connId);
  }
}

/** Occupancy as the device finds it when it wakes: the high-water mark of what waited. */
function highWater(rings: WatchedRing[]): void {
  for (let i = 0; i < rings.length; i++) {
    const r = rings[i]!;
    // Plain loads: a guest-written TAIL is hostile and only displayed, clamped to the capacity.
    let used = (r.u32[r.tail]! - r.u32[r.head]!) >>> 0;
    if (used > r.capacity) used = r.capacity;
    r.f[RING_USED] = used;
    if (used > r.f[RING_HIGH_WATER]!) r.f[RING_HIGH_WATER] = used;
  }
}

/** Bytes the device side moved, and the ring's signal and fault words, after the drain. */
function moved(rings: WatchedRing[]): void {
  for (let i = 0; i < rings.length; i++) {
    const r = rings[i]!;
    const u = r.u32;
    const f = r.f;
    const idx = u[r.mine]!;
    f[RING_BYTES]! += (idx - r.last) >>> 0; // free-running u32 index: the difference wraps correctly
    r.last = idx;
    f[RING_WAKEUPS]!++;
    f[RING_FAULTS] = u[r.fault] !== 0 ? 1 : 0;
    if (r.raised !== 0) { f[RING_RAISED] = u[r.raised]!; f[RING_SUPPRESSED] = u[r.suppressed]!; }
  }
}

/**
 * Claims a slot per device of the class and observes its model; `onDevice` learns each
 * device's slot. A class with a backend factory gets its backend spec tagged with the
 * device's slot, so a backend-placed model counts into the same slot from its thread.
 */
export function observeClass(spec: DeviceClassSpec, region: StatsRegion, onDevice?: (device: string, stats: DeviceStats) => void): DeviceClassSpec {
  const slots = new WeakMap<object, DeviceStats>();
  const backend = spec.backend;
  return {
    ...spec,
    create(device) {
      const model = spec.create(device);
      let stats: DeviceStats;
      try { stats = region.claimDevice(device.name); } catch { return model; } // region full: the device runs unobserved
      slots.set(device, stats);
      onDevice?.(device.name, stats);
      const observed = new DeviceObserver(region, stats).attach(model);
      const free = observed.release!; // attach always installs one (it frees the slot)
      observed.release = () => { slots.delete(device); free(); };
      return observed;
    },
    ...(backend ? {
      backend(device) {
        const b = backend(device);
        const stats = slots.get(device);
        return stats ? { ...b, stats: { region, device: stats } } : b;
      },
    } : {}),
  };
}

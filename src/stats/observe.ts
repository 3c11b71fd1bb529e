/**
 * Feeds the stats region from a device model without touching the connector: a class
 * spec is wrapped so each model it creates counts into its device's slot. The wrapper
 * sees every DEVCALL (calls, bytes in and out, errors, a latency sample every
 * {@link LATENCY_SAMPLE_EVERY} calls), every poll (records the model reports), and the
 * rings each connection sets up (shm), whose words it reads once per poll:
 * occupancy before the drain (its high-water mark), the device-side index after it
 * (bytes moved since the ring was set up), the shm-signal counters (raised and
 * suppressed) and the FAULT word. All plain loads and stores on the thread that runs
 * the model; nothing is added per record. Host placement: a backend-placed model runs
 * in its worker and keeps its own counters (the device row shows its attributes).
 */
import type { DeviceClassSpec } from '../host/device-class.js';
import type { DeviceModel } from '../host/device-model.js';
import type { DeviceConnection, ShmRegion } from '../connector/types.js';
import { SHM_RING_TO_DEVICE, SHM_RING_TO_GUEST } from '../connector/device-queues.js';
import { RING_OFF_FAULT, RING_OFF_HEAD, RING_OFF_TAIL } from '../../assembly/layout/ring.js';
import { SIG_OFF_RAISED, SIG_OFF_SUPPRESSED } from '../../assembly/layout/signal.js';
import * as L from './layout.js';
import type { DeviceStats, RingStats, StatsRegion } from './region.js';

/** One call in this many has its latency measured (a clock read costs more than the counters). */
export const LATENCY_SAMPLE_EVERY = 16;

interface WatchedRing { stats: RingStats; region: ShmRegion; u32: Uint32Array; last: number }

/** A device's observer: its slot and the rings of its open connections. */
export class DeviceObserver {
  private readonly rings = new Map<number, WatchedRing[]>();
  private sampleIn = LATENCY_SAMPLE_EVERY;

  constructor(private readonly region: StatsRegion, readonly stats: DeviceStats) {}

  /** Wraps the hooks of `model` in place (a hook the model lacks stays missing). */
  attach(model: DeviceModel): DeviceModel {
    const f = this.stats.f;
    const call = model.call?.bind(model);
    if (call) {
      model.call = (conn, func, payload, out) => {
        f[L.DEV_CALLS]!++;
        f[L.DEV_CALL_BYTES_IN]! += payload.length;
        const timed = --this.sampleIn === 0;
        const t0 = timed ? performance.now() : 0;
        const r = call(conn, func, payload, out);
        if (typeof r === 'number') this.answered(r, timed, t0);
        else r.then((n) => this.answered(n, timed, t0), () => { f[L.DEV_CALL_ERRORS]!++; });
        return r;
      };
    }
    const poll = model.poll?.bind(model);
    if (poll) {
      model.poll = (conn) => {
        const before = this.rings.size > 0;
        if (before) this.beforePoll();
        const n = poll(conn);
        f[L.DEV_POLLS]!++;
        if (n > 0) f[L.DEV_RECORDS]! += n;
        if (before) this.afterPoll();
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
      for (const id of [...this.rings.keys()]) this.forget(id);
      this.region.releaseDevice(this.stats);
      release?.();
    };
    return model;
  }

  private answered(r: number, timed: boolean, t0: number): void {
    const f = this.stats.f;
    if (r >= 0) f[L.DEV_CALL_BYTES_OUT]! += r; else f[L.DEV_CALL_ERRORS]!++;
    if (timed) { this.sampleIn = LATENCY_SAMPLE_EVERY; this.stats.latency((performance.now() - t0) * 1000); }
  }

  private watch(conn: DeviceConnection, region: ShmRegion): void {
    const toDevice = region.kind === SHM_RING_TO_DEVICE;
    let stats: RingStats;
    try {
      stats = this.region.claimRing(this.stats, { bus: conn.busName, member: conn.memberId, queue: region.queue, direction: toDevice ? L.DIR_TO_DEVICE : L.DIR_TO_GUEST, capacity: region.bytes });
    } catch { return; } // no free slot: this ring goes uncounted, the data path is unaffected
    const u32 = conn.memory.u32;
    const list = this.rings.get(conn.id) ?? [];
    list.push({ stats, region, u32, last: u32[(region.offset + (toDevice ? RING_OFF_HEAD : RING_OFF_TAIL)) >> 2]! });
    this.rings.set(conn.id, list);
  }

  private forget(connId: number): void {
    for (const r of this.rings.get(connId) ?? []) this.region.releaseRing(r.stats);
    this.rings.delete(connId);
  }

  /** Occupancy as the device finds it when it wakes: the high-water mark of what waited. */
  private beforePoll(): void {
    for (const list of this.rings.values()) for (const r of list) {
      const o = r.region.offset;
      // Plain loads: a guest-written TAIL is hostile and only displayed, clamped to the capacity.
      const used = Math.min((r.u32[(o + RING_OFF_TAIL) >> 2]! - r.u32[(o + RING_OFF_HEAD) >> 2]!) >>> 0, r.region.bytes);
      const f = r.stats.f;
      f[L.RING_USED] = used;
      if (used > f[L.RING_HIGH_WATER]!) f[L.RING_HIGH_WATER] = used;
    }
  }

  /** Bytes the device side moved, and the ring's signal and fault words, after the drain. */
  private afterPoll(): void {
    for (const list of this.rings.values()) for (const r of list) {
      const o = r.region.offset;
      const u = r.u32;
      const f = r.stats.f;
      const idx = u[(o + (r.region.kind === SHM_RING_TO_DEVICE ? RING_OFF_HEAD : RING_OFF_TAIL)) >> 2]!;
      f[L.RING_BYTES]! += (idx - r.last) >>> 0; // free-running u32 index: the difference wraps correctly
      r.last = idx;
      f[L.RING_WAKEUPS]!++;
      f[L.RING_FAULTS] = u[(o + RING_OFF_FAULT) >> 2] !== 0 ? 1 : 0;
      // The ring's data signal: its producer's wake-ups of its consumer (the guest's for to-device, the device's for to-guest).
      const sig = r.region.dataSignal;
      if (sig !== 0) {
        f[L.RING_RAISED] = u[(sig + SIG_OFF_RAISED) >> 2]!;
        f[L.RING_SUPPRESSED] = u[(sig + SIG_OFF_SUPPRESSED) >> 2]!;
      }
    }
  }
}

/** Claims a slot per device of the class and observes its model; `onDevice` learns each device's slot. */
export function observeClass(spec: DeviceClassSpec, region: StatsRegion, onDevice?: (device: string, stats: DeviceStats) => void): DeviceClassSpec {
  return {
    ...spec,
    create(device) {
      const model = spec.create(device);
      let stats: DeviceStats;
      try { stats = region.claimDevice(device.name); } catch { return model; } // region full: the device runs unobserved
      onDevice?.(device.name, stats);
      return new DeviceObserver(region, stats).attach(model);
    },
  };
}

/**
 * What the demo measures on the device side, without changing any device class: a
 * class spec is wrapped so each model it creates is observed. The wrapper counts
 * DEVCALLs and the records `poll` reports, and remembers the ring regions each
 * connection set up (from the `shm` hook, forgotten at `close`) so the lab can read
 * their occupancy (`ring_used`) and their shm-signal counters (`readSignalStats`)
 * straight from bus memory. Host placement only: a backend-placed model lives in
 * another thread.
 */
import type { DeviceClassSpec } from '../host/device-class.js';
import type { DeviceModel } from '../host/device-model.js';
import type { DeviceConnection, ShmRegion } from '../connector/types.js';
import { SHM_RING_TO_DEVICE, SHM_RING_TO_GUEST } from '../connector/device-queues.js';
import { readSignalStats } from '../core/signal.js';

/** One ring as the demo shows it. */
export interface RingReading {
  bus: string;
  member: number;
  queue: number;
  /** 'to-device' (guest produces) or 'to-guest' (device produces). */
  direction: 'to-device' | 'to-guest';
  used: number;
  capacity: number;
}

/** Counters of one device's model, cumulative. */
export interface ProbeTotals {
  calls: number;
  records: number;
  /** Notifications raised / suppressed on the signals of the rings open now. */
  raised: number;
  suppressed: number;
  rings: RingReading[];
}

/** Observes one device's model. */
export class DeviceProbe {
  calls = 0;
  records = 0;
  private readonly conns = new Map<number, { conn: DeviceConnection; regions: ShmRegion[] }>();

  /** Reads the current totals and ring states (cheap: a few loads per ring). */
  read(): ProbeTotals {
    let raised = 0;
    let suppressed = 0;
    const rings: RingReading[] = [];
    for (const { conn, regions } of this.conns.values()) {
      if (!conn.open) continue;
      const mem = conn.memory;
      for (const r of regions) {
        for (const sig of [r.dataSignal, r.spaceSignal]) {
          if (sig === 0) continue;
          const s = readSignalStats(mem, sig);
          raised += s.raised;
          suppressed += s.suppressed;
        }
        const used = mem.core.ring_used(r.offset, r.bytes);
        rings.push({
          bus: conn.busName, member: conn.memberId, queue: r.queue,
          direction: r.kind === SHM_RING_TO_DEVICE ? 'to-device' : 'to-guest',
          used: used < 0 ? 0 : used, capacity: r.bytes,
        });
      }
    }
    return { calls: this.calls, records: this.records, raised, suppressed, rings };
  }

  /** Wraps the hooks of `model` in place (only those it has; a missing hook stays missing). */
  attach(model: DeviceModel): DeviceModel {
    const call = model.call?.bind(model);
    if (call) model.call = (conn, func, payload, out) => { this.calls++; return call(conn, func, payload, out); };
    const poll = model.poll?.bind(model);
    if (poll) model.poll = (conn) => { const n = poll(conn); if (n > 0) this.records += n; return n; };
    const shm = model.shm?.bind(model);
    model.shm = (conn, region) => {
      shm?.(conn, region); // a refusal throws before the region is recorded
      if (region.kind !== SHM_RING_TO_DEVICE && region.kind !== SHM_RING_TO_GUEST) return;
      let e = this.conns.get(conn.id);
      if (!e) { e = { conn, regions: [] }; this.conns.set(conn.id, e); }
      e.regions.push(region);
    };
    const close = model.close?.bind(model);
    model.close = (conn) => { this.conns.delete(conn.id); close?.(conn); };
    return model;
  }
}

/** A copy of `spec` whose models are observed by a probe per device (kept in `probes`, by device name). */
export function instrumentClass(spec: DeviceClassSpec, probes: Map<string, DeviceProbe>): DeviceClassSpec {
  return {
    ...spec,
    create(device) {
      const model = spec.create(device);
      const probe = new DeviceProbe();
      probes.set(device.name, probe);
      return probe.attach(model);
    },
  };
}

/**
 * A host's stats: the region, the class wrapper that feeds it, and what only the host
 * thread knows — the counters devices keep as attributes (`drops`, `faults`), copied
 * into the region by {@link HostStats.sample} (the runtime calls it a few times a
 * second; `vbus top` and the demo call it before they read). Platform-neutral.
 */
import type { VbusHost } from '../host/host.js';
import type { DeviceClassSpec } from '../host/device-class.js';
import * as L from './layout.js';
import { observeClass } from './observe.js';
import { StatsRegion, type DeviceStats, type StatsReading } from './region.js';

/** A reading with, per device, its class and links and the numeric attributes it keeps itself. */
export interface HostStatsReading extends StatsReading {
  t: number;
  devices: Array<StatsReading['devices'][number] & { type: string; links: string[]; own: Record<string, number> }>;
}

export class HostStats {
  readonly region: StatsRegion;
  private readonly slots = new Map<string, DeviceStats>();

  constructor(private readonly host: VbusHost, opts: { devices?: number; rings?: number } = {}) {
    this.region = StatsRegion.create(opts);
  }

  /** The spec to register instead of `spec`: its models count into the region. */
  observe(spec: DeviceClassSpec): DeviceClassSpec {
    return observeClass(spec, this.region, (name, stats) => { this.slots.set(name, stats); });
  }

  /** Copies the attribute counters (drops, faults) into the region. Host thread. */
  sample(): void {
    for (const [name, stats] of this.slots) {
      const d = this.host.device(name);
      if (!d?.isAlive || !d.deviceClass) { this.slots.delete(name); continue; }
      const names = d.attrNames();
      if (names.includes('drops')) stats.f[L.DEV_DROPS] = Number(d.attr('drops')) || 0;
      if (names.includes('faults')) stats.f[L.DEV_FAULTS] = Number(d.attr('faults')) || 0;
    }
  }

  /**
   * Samples, then reads the region; with `bus`, only the devices linked to that bus and
   * the rings on it. `own` holds each device's numeric read-only attributes, read in
   * the same turn of the event loop as the region (what the device counts itself).
   */
  read(bus?: string | null): HostStatsReading {
    this.sample();
    const r = this.region.read();
    const devices: HostStatsReading['devices'] = [];
    for (const d of r.devices) {
      const dev = this.host.device(d.name);
      if (!dev?.deviceClass) continue;
      const links = dev.links().map((l) => `${l.bus.name}:${l.id}`);
      if (bus && !dev.links().some((l) => l.bus.name === bus)) continue;
      const own: Record<string, number> = {};
      for (const a of dev.deviceClass.attributes) {
        if (a.mode !== 'ro') continue;
        const v = dev.attr(a.name);
        if (/^\d+$/.test(v)) own[a.name] = Number(v);
      }
      devices.push({ ...d, type: dev.deviceClass.name, links, own });
    }
    const names = new Set(devices.map((d) => d.name));
    return { t: Date.now(), devices, rings: r.rings.filter((x) => names.has(x.device) && (!bus || x.bus === bus)) };
  }
}

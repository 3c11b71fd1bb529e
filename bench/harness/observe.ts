/**
 * With VBUS_BENCH_STATS=1 a bench registers its device classes through the stats
 * region's observer (src/stats), as `vbus run` does, so the same bench measures the
 * data path with and without the counters.
 */
import { HostStats } from '../../src/stats/host-stats.js';
import type { DeviceClassSpec, VbusHost } from '../../src/index.js';

export const BENCH_STATS = process.env['VBUS_BENCH_STATS'] === '1';

/** Registers `spec` on `host`, observed when VBUS_BENCH_STATS=1. */
export function registerBenchClass(host: VbusHost, spec: DeviceClassSpec): void {
  host.registerClass(BENCH_STATS ? new HostStats(host).observe(spec) : spec);
}

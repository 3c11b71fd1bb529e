/**
 * A runtime as `vbus run` makes it: a host built from a topology, its guests started,
 * its control socket listening (and its stats region published). `stop()` undoes all
 * of it: socket closed and removed, guests stopped, the host released.
 */
import type { Topology } from '../topology/types.js';
import { VbusHost } from '../host/host.js';
import { buildTopology } from '../topology/build.js';
import { BUILTIN_CLASSES } from '../topology/builtin-classes.js';
import { ControlServer } from '../control/server.js';
import { HostStats } from '../stats/host-stats.js';

export interface Runtime {
  name: string;
  socket: string;
  host: VbusHost;
  control: ControlServer;
  /** The stats region every device of the runtime counts into (`vbus top` reads it). */
  stats: HostStats;
  onStop(fn: () => void): void;
  stop(): Promise<void>;
}

export async function startRuntime(topo: Topology, opts: { name: string }): Promise<Runtime> {
  const host = new VbusHost();
  const stats = new HostStats(host);
  buildTopology(host, topo, { wrapClass: (spec) => stats.observe(spec) });
  // Attribute counters reach the region a few times a second for readers on other threads.
  const sampler = setInterval(() => stats.sample(), 500);
  sampler.unref();
  const stopListeners: Array<() => void> = [];
  let control: ControlServer;
  try {
    control = await ControlServer.start(host, {
      name: opts.name,
      classes: new Map([...BUILTIN_CLASSES, ...topo.classes.map((c) => [c.name, c] as const)].map(([n, c]) => [n, stats.observe(c)] as const)),
      stats: (bus) => stats.read(bus),
      onStop: () => { for (const f of stopListeners) f(); },
    });
  } catch (e) {
    clearInterval(sampler);
    host.release();
    throw e;
  }
  try {
    for (const g of topo.guests) host.spawnGuest(g.bus, g.url, { ...(g.data !== undefined ? { data: g.data } : {}), name: g.name });
  } catch (e) {
    clearInterval(sampler);
    await control.close();
    await host.connector.release();
    host.release();
    throw e;
  }
  let stopped = false;
  return {
    name: opts.name,
    socket: control.path,
    host,
    control,
    stats,
    onStop: (fn) => { stopListeners.push(fn); },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(sampler);
      await control.close();
      await host.connector.release();
      host.release();
    },
  };
}

/**
 * A runtime as `vbus run` makes it: a host built from a topology, its guests started,
 * its control socket listening, its migration socket too (NAME.migrate beside it:
 * buses other runtimes move here with `vbus migrate`), and its stats region published. `stop()` undoes all
 * of it: socket closed and removed, guests stopped, the host released.
 */
import type { Topology } from '../topology/types.js';
import { VbusHost } from '../host/host.js';
import { buildTopology } from '../topology/build.js';
import { BUILTIN_CLASSES } from '../topology/builtin-classes.js';
import { ControlServer } from '../control/server.js';
import { HostStats } from '../stats/host-stats.js';
import { decodeSnapshot } from '../snapshot/format.js';
import { restoreBuses } from '../snapshot/restore.js';
import { readSnapshotFile } from '../snapshot/node-file.js';
import type { DeviceClassSpec } from '../host/device-class.js';
import { listenForMigration, type MigrationListener } from '../migrate/target.js';
import { migrationPath } from '../control/runtime-dir.js';
import { existsSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * `vbus run --restore FILE`: registers the built-in classes the snapshot's devices
 * need (a topology file given too may have registered others), then restores it.
 */
function restoreInto(host: VbusHost, file: string, wrap: (spec: DeviceClassSpec) => DeviceClassSpec): void {
  const bytes = readSnapshotFile(file);
  for (const d of decodeSnapshot(bytes, file).devices) {
    const spec = BUILTIN_CLASSES.get(d.state.cls);
    if (spec && !host.deviceClass(spec.name)) host.registerClass(wrap(spec));
  }
  restoreBuses(host, bytes, file);
}

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

export async function startRuntime(topo: Topology, opts: { name: string; restore?: string }): Promise<Runtime> {
  const host = new VbusHost();
  const stats = new HostStats(host);
  buildTopology(host, topo, { wrapClass: (spec) => stats.observe(spec) });
  if (opts.restore) {
    try {
      restoreInto(host, opts.restore, (spec) => stats.observe(spec));
    } catch (e) {
      await host.connector.release();
      host.release();
      throw e;
    }
  }
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
  // `vbus migrate … --to NAME` reaches this runtime here. Its control socket took the
  // name, so a migration socket of that name left behind is a dead runtime's.
  let migrations: MigrationListener | null = null;
  const migrationSocket = migrationPath(opts.name, dirname(control.path));
  try {
    if (existsSync(migrationSocket)) unlinkSync(migrationSocket);
    migrations = await listenForMigration(host, { path: migrationSocket }, {
      onMissingClass: (cls) => { const spec = BUILTIN_CLASSES.get(cls); if (spec) host.registerClass(stats.observe(spec)); },
    });
    for (const g of topo.guests) host.spawnGuest(g.bus, g.url, { ...(g.data !== undefined ? { data: g.data } : {}), name: g.name });
  } catch (e) {
    clearInterval(sampler);
    await migrations?.close();
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
      await migrations?.close();
      try { unlinkSync(migrationSocket); } catch { /* already gone */ }
      await control.close();
      await host.connector.release();
      host.release();
    },
  };
}

/**
 * Builds a validated topology into a host: registers its classes, creates its buses,
 * devices (type, placement, attributes) and links, in that order. If any step fails,
 * everything this call made is taken down again (links, devices, buses, classes), so
 * the host is left as it was. Guests are started by the caller, once the build stands.
 */
import type { VbusHost } from '../host/host.js';
import type { DeviceClassSpec } from '../host/device-class.js';
import type { Topology } from './types.js';

export interface BuildOptions {
  /** Replaces each class spec before it is registered (the demo observes its models this way). */
  wrapClass?(spec: DeviceClassSpec): DeviceClassSpec;
}

export function buildTopology(host: VbusHost, topo: Topology, opts: BuildOptions = {}): void {
  const undo: Array<() => void> = [];
  try {
    for (const spec of topo.classes) {
      const cls = host.registerClass(opts.wrapClass ? opts.wrapClass(spec) : spec);
      undo.push(() => host.unregisterClass(cls));
    }
    for (const b of topo.buses) {
      const bus = host.createBus(b.name, { memoryBytes: b.memoryBytes });
      undo.push(() => host.destroyBus(bus));
    }
    for (const d of topo.devices) {
      const dev = host.createDevice(d.name);
      undo.push(() => host.destroyDevice(dev));
      host.setType(dev, d.type);
      if (d.placement !== 'host') host.setPlacement(dev, d.placement);
      for (const [k, v] of d.attributes) dev.setAttr(k, v);
    }
    for (const l of topo.links) {
      host.link(l.bus, l.device);
      undo.push(() => host.unlink(l.bus, l.device));
    }
  } catch (e) {
    for (const u of undo.reverse()) u();
    throw e;
  }
}

/**
 * `/sys/vbus`: the host's reflection of its objects, read-only except for device
 * attributes the class declares writable.
 *
 * ```
 * /sys/vbus
 * |-- backends/THREAD/{pinned,devices}         (while backend pool threads serve this host's devices:
 * |                                             '1' if pinned; one 'BUS ID' line per device)
 * |-- deviceclass/CLASS                        (empty directory per registered class)
 * |-- devices/DEVICE
 * |   |-- class -> ../../deviceclass/CLASS     (once typed)
 * |   |-- ATTRIBUTE ...                        (the class's attributes)
 * |   `-- interfaces/N -> ../../../instances/BUS/devices/ID
 * |-- instances/BUS
 * |   |-- devices/ID/{device -> ../../../../devices/DEVICE, type}
 * |   |-- members/MEMBER                       (file: the parent member's id, 0 if none)
 * |   `-- transport                            ('message': only on a bus without shared memory)
 * `-- version
 * ```
 */
import type { VbusHost } from '../host/host.js';
import type { Device } from '../host/device.js';
import type { Bus } from '../host/bus.js';
import { DirNode, FileNode, Node, link, roFile, staticDir } from './nodes.js';
import { vbusError } from '../errors.js';

/** Contents of `/sys/vbus/version`: the version of this admin layout. */
export const ADMIN_LAYOUT_VERSION = '1';

/** A device attribute as a file (shared with /config). Writes go through `Device.setAttr`. */
export function attributeFile(device: Device, name: string): FileNode {
  return { kind: 'file', read: () => device.attr(name), write: (text) => device.setAttr(name, text) };
}

export function sysfsRoot(host: VbusHost): DirNode {
  return staticDir({
    vbus: () => {
      const d = staticDir({
        backends: () => backendsDir(host),
        deviceclass: () => classesDir(host),
        devices: () => devicesDir(host),
        instances: () => instancesDir(host),
        version: () => roFile(() => ADMIN_LAYOUT_VERSION),
      });
      // `backends` appears while a pool thread serves a device of this host (the original layout has no such entry).
      const has = (): boolean => host.backendThreads().length > 0;
      return { ...d, list: () => d.list().filter((n) => n !== 'backends' || has()), lookup: (n) => (n === 'backends' && !has() ? undefined : d.lookup(n)) };
    },
  });
}

function backendsDir(host: VbusHost): DirNode {
  const find = (name: string) => host.backendThreads().find((t) => String(t.thread) === name);
  return {
    kind: 'dir',
    list: () => host.backendThreads().map((t) => String(t.thread)),
    lookup: (name) => {
      if (!find(name)) return undefined;
      return staticDir({
        pinned: () => roFile(() => (find(name)?.pinned ? '1' : '0')),
        devices: () => roFile(() => (find(name)?.devices ?? []).map((d) => `${d.bus} ${d.id}\n`).join('')),
      });
    },
  };
}

function classesDir(host: VbusHost): DirNode {
  return {
    kind: 'dir',
    list: () => host.classes().map((c) => c.name),
    lookup: (name) => (host.deviceClass(name) ? staticDir({}) : undefined),
  };
}

function devicesDir(host: VbusHost): DirNode {
  return {
    kind: 'dir',
    list: () => host.devices().map((d) => d.name),
    lookup: (name) => {
      const d = host.device(name);
      return d ? deviceDir(d) : undefined;
    },
  };
}

/**
 * `status` ('ok' or 'needs-reset') and `fault` (one line per faulted connection: bus,
 * member, handle, reason) are always readable; they are listed only while the device
 * needs a reset, so a healthy device's directory is the original's.
 */
function faultText(d: Device): string {
  return d.faults().map((f) => `bus ${f.busName} member ${f.memberId} handle ${f.handle}${f.queue >= 0 ? ` queue ${f.queue}` : ''}: ${f.name}: ${f.text}`).join('\n');
}

function deviceDir(d: Device): DirNode {
  return {
    kind: 'dir',
    list: () => [...(d.deviceClass ? ['class'] : []), ...d.attrNames(), 'interfaces', ...(d.status === 'ok' ? [] : ['status', 'fault'])],
    lookup: (name): Node | undefined => {
      if (name === 'class') return d.deviceClass ? link(`../../deviceclass/${d.deviceClass.name}`) : undefined;
      if (name === 'interfaces') return interfacesDir(d);
      if (name === 'status' && !d.attrNames().includes(name)) return roFile(() => d.status);
      if (name === 'fault' && !d.attrNames().includes(name)) return roFile(() => faultText(d));
      return d.attrNames().includes(name) ? attributeFile(d, name) : undefined;
    },
  };
}

function interfacesDir(d: Device): DirNode {
  return {
    kind: 'dir',
    list: () => d.links().map((l) => String(l.index)),
    lookup: (name) => {
      const l = d.links().find((x) => String(x.index) === name);
      return l ? link(`../../../instances/${l.bus.name}/devices/${l.id}`) : undefined;
    },
  };
}

function instancesDir(host: VbusHost): DirNode {
  return {
    kind: 'dir',
    list: () => host.buses().map((b) => b.name),
    lookup: (name) => {
      const b = host.bus(name);
      if (!b) return undefined;
      // A bus off the default transport says so; a shared bus keeps the original's layout.
      const transport: Record<string, () => Node> = b.transport === 'message' ? { transport: () => roFile(() => b.transport) } : {};
      const dir = staticDir({ devices: () => busDevicesDir(b), members: () => membersDir(b), ...transport });
      // `reset` is write-only and not listed (the tree stays the original's): `1` resets the connector regions.
      return { ...dir, lookup: (n: string) => (n === 'reset' ? resetFile(b) : dir.lookup(n)) };
    },
  };
}

function resetFile(b: Bus): FileNode {
  return {
    kind: 'file',
    read: () => '0',
    write: (text) => {
      if (text.trim() !== '1') throw vbusError('EINVAL', `write 1 to reset bus ${b.name}'s connector regions, not ${JSON.stringify(text.slice(0, 20))}`, { text });
      b.reset();
    },
  };
}

function busDevicesDir(b: Bus): DirNode {
  return {
    kind: 'dir',
    list: () => b.devices().map((x) => String(x.id)),
    lookup: (name) => {
      const d = /^\d+$/.test(name) ? b.deviceById(Number(name)) : undefined;
      if (!d || String(Number(name)) !== name) return undefined;
      return staticDir({
        device: () => link(`../../../../devices/${d.name}`),
        type: () => roFile(() => d.interfaceType ?? ''),
      });
    },
  };
}

function membersDir(b: Bus): DirNode {
  return {
    kind: 'dir',
    list: () => b.members().map((m) => String(m.id)),
    lookup: (name) => {
      const m = b.members().find((x) => String(x.id) === name);
      return m ? roFile(() => String(m.parent?.id ?? 0)) : undefined;
    },
  };
}

/**
 * `/config/vbus`: where the administrator manages object lifetimes.
 *
 * ```
 * /config/vbus
 * |-- devices/DEVICE          mkdir creates a device, rmdir destroys it
 * |   |-- type                write a class name once to type the device
 * |   `-- ATTRIBUTE ...       the class's attributes (as in /sys/vbus/devices)
 * `-- instances/BUS           mkdir creates a bus, rmdir destroys it
 *     `-- DEVICE -> ../../devices/DEVICE   symlink links the device, unlink unlinks it
 * ```
 */
import { vbusError } from '../errors.js';
import type { VbusHost } from '../host/host.js';
import type { Device } from '../host/device.js';
import type { Bus } from '../host/bus.js';
import { DirNode, Node, link, staticDir } from './nodes.js';
import { joinPath } from './paths.js';
import { attributeFile } from './sysfs.js';

export function configfsRoot(host: VbusHost): DirNode {
  return staticDir({
    vbus: () => staticDir({
      devices: () => devicesDir(host),
      instances: () => instancesDir(host),
    }),
  });
}

function devicesDir(host: VbusHost): DirNode {
  return {
    kind: 'dir',
    list: () => host.devices().map((d) => d.name),
    lookup: (name) => {
      const d = host.device(name);
      return d ? deviceDir(host, d) : undefined;
    },
    mkdir: (name) => { host.createDevice(name); },
    rmdir: (name) => host.destroyDevice(name),
  };
}

function deviceDir(host: VbusHost, d: Device): DirNode {
  return {
    kind: 'dir',
    list: () => ['type', ...d.attrNames()],
    lookup: (name): Node | undefined => {
      if (name === 'type') {
        return { kind: 'file', read: () => d.deviceClass?.name ?? '', write: (text) => host.setType(d, text) };
      }
      return d.attrNames().includes(name) ? attributeFile(d, name) : undefined;
    },
  };
}

function instancesDir(host: VbusHost): DirNode {
  return {
    kind: 'dir',
    list: () => host.buses().map((b) => b.name),
    lookup: (name) => {
      const b = host.bus(name);
      return b ? busDir(host, b) : undefined;
    },
    mkdir: (name) => { host.createBus(name); },
    rmdir: (name) => host.destroyBus(name),
  };
}

function busDir(host: VbusHost, b: Bus): DirNode {
  return {
    kind: 'dir',
    list: () => b.devices().map((x) => x.device.name),
    lookup: (name) => {
      const d = host.device(name);
      return d && d.linkTo(b) ? link(`../../devices/${d.name}`) : undefined;
    },
    symlink: (name, target) => {
      const [a, v, devs, dev, ...rest] = target;
      if (a !== 'config' || v !== 'vbus' || devs !== 'devices' || dev === undefined || rest.length > 0) {
        throw vbusError('EINVAL', `link target ${joinPath(target)} is not a device under /config/vbus/devices`, { target: joinPath(target) });
      }
      if (!host.device(dev)) throw vbusError('ENOENT', `No such file or directory: no device ${dev} (target ${joinPath(target)})`, { target: joinPath(target) });
      if (name !== dev) {
        throw vbusError('EINVAL', `link name ${name} must be the device's name ${dev}`, { name, device: dev });
      }
      host.link(b, dev);
    },
    unlink: (name) => host.unlink(b, name),
  };
}

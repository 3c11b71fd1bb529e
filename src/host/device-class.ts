/**
 * Device classes. "A devclass begets a device, which begets an interface": a class is
 * registered once (as loading a kernel module did), names the interface type(s) its
 * devices expose, declares their attributes, and makes one {@link DeviceModel} per
 * device. Drivers bind to the interface type, not to the class, so several classes
 * (venet-tap, venet-loopback, venet-switch) can serve one driver (virtual-ethernet).
 */
import type { BackendModelSpec } from '../connector/backend/backend-proxy.js';
import { vbusError } from '../errors.js';
import { AttributeSpec, checkAttributeSpecs } from './attributes.js';
import type { Device } from './device.js';
import type { DeviceModel } from './device-model.js';
import { checkName } from './names.js';
import type { DeviceStateSpec } from './device-state.js';
import { MAX_BUS_BYTES } from '../core/bus-memory.js';
import { EV_IFACE_MAX } from '../../assembly/layout/event.js';

/** What {@link VbusHost.registerClass} takes. */
export interface DeviceClassSpec {
  /** Host-unique class name, e.g. `venet-tap`; the value written to a device's `type`. */
  name: string;
  /** Interface types the devices expose; the first is the `type` a bus shows (e.g. `virtual-ethernet`). */
  interfaces: string[];
  /** Attributes each device of the class has. */
  attributes?: AttributeSpec[];
  /** A device of this class may be linked to one bus at a time; a second link fails with EBUSY. */
  exclusive?: boolean;
  /**
   * Bytes of bus memory a device of this class needs on each bus it is linked to (its
   * rings and signals). The host reserves that region at link time and frees it at
   * unlink; default 0 (the device places nothing in bus memory up front).
   */
  busBytes?: number;
  /** Makes the model for a newly typed device. Throwing refuses the `type` write (state unchanged). */
  create(device: Device): DeviceModel;
  /**
   * If the class can run its data path in a backend worker: the module and factory that
   * create the same model there, and its start data (attributes). A device is placed
   * there with `host.setPlacement(device, 'backend')` before it is linked.
   */
  backend?(device: Device): BackendModelSpec;
  /** How devices of this class are saved and loaded (src/state); without it they cannot be. */
  state?: DeviceStateSpec;
}

/**
 * A registered device class. It counts the devices made from it: while any exists,
 * the class cannot be unregistered (EBUSY), as the original kept a module reference
 * while a device was configured.
 */
export class DeviceClass {
  /** Class name. */
  readonly name: string;
  /** Interface types, first one shown as the bus-side `type`. */
  readonly interfaces: readonly string[];
  /** Attribute declarations, sorted by name. */
  readonly attributes: readonly AttributeSpec[];
  /** See {@link DeviceClassSpec.exclusive}. */
  readonly exclusive: boolean;
  /** See {@link DeviceClassSpec.busBytes}. */
  readonly busBytes: number;
  private readonly factory: (device: Device) => DeviceModel;
  /** Backend factory, if the class supports backend placement. */
  readonly backend: ((device: Device) => BackendModelSpec) | undefined;
  /** See {@link DeviceClassSpec.state}. */
  readonly state: DeviceStateSpec | undefined;
  private readonly members = new Set<Device>();
  private registered = true;

  /** @internal Use {@link VbusHost.registerClass}. */
  constructor(spec: DeviceClassSpec) {
    this.name = checkName(spec?.name, 'device class');
    if (!Array.isArray(spec.interfaces) || spec.interfaces.length === 0) {
      throw vbusError('EINVAL', `class ${this.name}: needs at least one interface type`, { className: this.name });
    }
    for (const i of spec.interfaces) {
      checkName(i, `class ${this.name}: interface`);
      // Guests learn the interface from a DEVADD record that holds EV_IFACE_MAX bytes:
      // a longer name could be registered and linked but never reach a guest.
      const bytes = new TextEncoder().encode(i).length;
      if (bytes > EV_IFACE_MAX) {
        throw vbusError('EINVAL', `class ${this.name}: interface name '${i}' is ${bytes} bytes of UTF-8; guests can be told at most ${EV_IFACE_MAX}`, { className: this.name, iface: i });
      }
    }
    if (typeof spec.create !== 'function') {
      throw vbusError('EINVAL', `class ${this.name}: create(device) must be a function`, { className: this.name });
    }
    const busBytes = spec.busBytes ?? 0;
    if (!Number.isSafeInteger(busBytes) || busBytes < 0 || busBytes > MAX_BUS_BYTES) {
      throw vbusError('EINVAL', `class ${this.name}: busBytes ${busBytes} must be an integer from 0 to ${MAX_BUS_BYTES} (the largest bus memory)`, { className: this.name, busBytes });
    }
    if (spec.backend !== undefined && typeof spec.backend !== 'function') {
      throw vbusError('EINVAL', `class ${this.name}: backend must be a function (device) => BackendModelSpec`, { className: this.name });
    }
    this.interfaces = Object.freeze([...spec.interfaces]);
    this.attributes = checkAttributeSpecs(this.name, spec.attributes);
    this.exclusive = spec.exclusive === true;
    this.busBytes = busBytes;
    this.factory = spec.create;
    this.backend = typeof spec.backend === 'function' ? spec.backend.bind(spec) : undefined;
    const st = spec.state;
    if (st !== undefined && (!Number.isInteger(st?.version) || st.version < 1 || typeof st.save !== 'function' || typeof st.prepare !== 'function')) {
      throw vbusError('EINVAL', `class ${this.name}: state needs a positive integer version, save() and prepare()`, { className: this.name });
    }
    this.state = st;
  }

  /** The interface type a bus shows for devices of this class (`devices/N/type`). */
  get interfaceType(): string { return this.interfaces[0]!; }

  /** Number of devices of this class (the class's reference count). */
  get deviceCount(): number { return this.members.size; }

  /** Devices of this class, in creation order. */
  devices(): Device[] { return [...this.members]; }

  /** False once unregistered. */
  get isRegistered(): boolean { return this.registered; }

  /** The declaration of attribute `name`, or undefined. */
  attribute(name: string): AttributeSpec | undefined {
    return this.attributes.find((a) => a.name === name);
  }

  /** @internal Called by the host when typing a device. */
  _create(device: Device): DeviceModel {
    const model = this.factory(device);
    if (model === null || typeof model !== 'object') {
      throw vbusError('EINVAL', `class ${this.name}: create() returned ${model === null ? 'null' : typeof model}, not a device model`, { className: this.name, device: device.name });
    }
    return model;
  }
  /** @internal */
  _adopt(device: Device): void { this.members.add(device); }
  /** @internal */
  _drop(device: Device): void { this.members.delete(device); }
  /** @internal */
  _unregister(): void { this.registered = false; }
}

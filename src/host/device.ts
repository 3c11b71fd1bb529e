/**
 * Devices. A device is made in two steps, as in the original: created with a
 * host-unique name (untyped, with no model and no attributes), then given a `type`
 * naming a registered class, which makes its model and attributes. The type cannot
 * change afterwards (a second `setType` fails with EEXIST); destroy and re-create the
 * device instead. A device exists outside any bus and may be linked to several buses
 * unless its class is exclusive.
 */
import { vbusError } from '../errors.js';
import { parseAttribute } from './attributes.js';
import type { DeviceClass } from './device-class.js';
import type { DeviceModel } from './device-model.js';
import { Emitter, reportListenerError } from './emitter.js';
import type { Bus } from './bus.js';
import type { Link } from './link.js';
import type { VbusHost } from './host.js';
import type { ConnFaultReport } from '../connector/bus-endpoint.js';

/** Events a device emits. */
export type DeviceEvents = {
  /** A successful `setAttr` changed the value (writes of the current value emit nothing). */
  'attr-change': (name: string, value: string) => void;
  /** The device was linked to a bus. */
  'link': (link: Link) => void;
  /** The device was unlinked from a bus. */
  'unlink': (link: Link) => void;
};

export class Device {
  /** Host-unique name (`/config/vbus/devices/NAME`). */
  readonly name: string;
  /** Events: `attr-change`, `link`, `unlink`. */
  readonly events = new Emitter<DeviceEvents>();
  private cls: DeviceClass | null = null;
  private mdl: DeviceModel | null = null;
  private where: 'host' | 'backend' = 'host';
  private pin = false;
  private readonly values = new Map<string, string>();
  private readonly byBus = new Map<Bus, Link>();
  private alive = true;

  /** @internal Use {@link VbusHost.createDevice}. */
  constructor(readonly host: VbusHost, name: string) {
    this.name = name;
  }

  /** The class set by `type`, or null while the device is untyped. */
  get deviceClass(): DeviceClass | null { return this.cls; }
  /** The model the class made, or null while untyped. */
  get model(): DeviceModel | null { return this.mdl; }
  /** The interface type a bus shows for this device (its class's first interface), or null. */
  get interfaceType(): string | null { return this.cls?.interfaceType ?? null; }
  /** Where the device's data path runs when linked: the host thread or a backend worker. */
  get placement(): 'host' | 'backend' { return this.where; }
  /** In backend placement: whether the device has a backend thread of its own (see VbusHost.setPlacement). */
  get pinned(): boolean { return this.pin; }
  /** @internal Use {@link VbusHost.setPlacement}. */
  setPlacementInternal(p: 'host' | 'backend', pinned = false): void { this.where = p; this.pin = p === 'backend' && pinned; }
  /** False once destroyed. */
  get isAlive(): boolean { return this.alive; }

  /** The buses this device is linked to, with its id on each, in link order. */
  links(): Link[] { return [...this.byBus.values()]; }
  /** The link to `bus`, or undefined. */
  linkTo(bus: Bus): Link | undefined { return this.byBus.get(bus); }

  /** Names of the attributes (from the class; none while untyped), sorted. */
  attrNames(): string[] { return this.cls ? this.cls.attributes.map((a) => a.name) : []; }

  /** Reads attribute `name`. Throws ENOENT for an attribute the device does not have. */
  attr(name: string): string {
    const spec = this.cls?.attribute(name);
    if (!spec) throw this.noAttr(name);
    if (spec.show) return spec.show(this);
    return this.values.get(name) ?? '';
  }

  /**
   * Writes attribute `name`: ENOENT if the device has no such attribute, EACCES if it
   * is read-only, EINVAL if the class's parser refuses the value. On failure the value
   * is unchanged. On success the stored value is the parser's normalised text; if it
   * differs from the previous value, the model's `attrChanged` is called and
   * `attr-change` is emitted.
   */
  setAttr(name: string, value: string): void {
    const spec = this.cls?.attribute(name);
    if (!spec) throw this.noAttr(name);
    if (spec.mode !== 'rw') {
      throw vbusError('EACCES', `attribute ${name} of device ${this.name} is read-only`, { device: this.name, attribute: name });
    }
    if (typeof value !== 'string') {
      throw vbusError('EINVAL', `attribute ${name} of device ${this.name}: value must be text, not ${typeof value}`, { device: this.name, attribute: name });
    }
    const parsed = parseAttribute(spec, value, this);
    if (this.values.get(name) === parsed) return;
    this.values.set(name, parsed);
    if (this.mdl?.attrChanged) {
      try { this.mdl.attrChanged(name, parsed); } catch (err) { reportListenerError(err); }
    }
    this.events.emit('attr-change', name, parsed);
  }

  /** Subscribes to attribute changes; returns the unsubscribe function. */
  onAttrChange(listener: (name: string, value: string) => void): () => void {
    return this.events.on('attr-change', listener);
  }

  /** Destroys the device (see {@link VbusHost.destroyDevice}): EBUSY while it is linked. */
  release(): void { this.host.destroyDevice(this); }

  /**
   * The device's connections that need a reset (virtio's NEEDS_RESET), on every bus it
   * is linked to: bus, member, handle and the reason from the host's table. Empty when
   * none does. The host checks the rings now.
   */
  faults(): ConnFaultReport[] { return this.host.connector.deviceFaults(this); }

  /** 'needs-reset' while any connection of the device is faulted, else 'ok'. */
  get status(): 'ok' | 'needs-reset' { return this.faults().length > 0 ? 'needs-reset' : 'ok'; }

  private noAttr(name: string) {
    return vbusError('ENOENT', `device ${this.name} has no attribute ${JSON.stringify(name)}${this.cls ? '' : ' (it has no type yet)'}`, { device: this.name, attribute: name });
  }

  /** @internal Installs class, initial values and model (host.setType). */
  _type(cls: DeviceClass, values: Map<string, string>): void {
    this.cls = cls;
    for (const [k, v] of values) this.values.set(k, v);
  }
  /** @internal */
  _setModel(model: DeviceModel | null): void { this.mdl = model; }
  /** @internal Undoes `_type` when the class's factory refuses. */
  _untype(): void { this.cls = null; this.mdl = null; this.values.clear(); }
  /** @internal */
  _addLink(link: Link): void { this.byBus.set(link.bus, link); }
  /** @internal */
  _removeLink(bus: Bus): void { this.byBus.delete(bus); }
  /** @internal */
  _kill(): void { this.alive = false; this.events.clear(); }
}

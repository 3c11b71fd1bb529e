/**
 * The host: the "kernel" of vbus. It owns the registry of device classes, the devices
 * made from them, the buses and their members. The admin view of all of it is built
 * from a host (`adminView(host)`, src/admin), so the host does not depend on it. Every
 * operation either completes or throws a `VbusError` having changed nothing.
 *
 * Decisions (see also {@link Bus}, {@link Device}, {@link Member}):
 * - Setting a device's type twice fails with **EEXIST** (the type is part of the
 *   device's identity; destroy and re-create it to change it). An unknown class or
 *   device fails with ENOENT ("No such file or directory").
 * - Refusals where state is in use, in the original's teardown order: a bus with
 *   members, or with devices linked, cannot be destroyed (EBUSY); a linked device
 *   cannot be destroyed (EBUSY); a class with devices cannot be unregistered (EBUSY);
 *   an exclusive device cannot be linked to a second bus (EBUSY).
 * - `teardown()` undoes what an administrator built (members leave, links go, buses
 *   and devices are destroyed) but keeps the registered classes, as the original kept
 *   modules loaded; `release()` also unregisters the classes.
 * - Model hooks: `linked` may refuse a link by throwing (the link is undone);
 *   `unlinked`, `attrChanged` and `release` cannot refuse, their errors are reported
 *   asynchronously like listener errors (see {@link Emitter}).
 */
import { BusMemory, type BusTransport } from '../core/bus-memory.js';
import { isCrossOriginIsolated } from '../platform/shared-memory.js';
import { hostMirror } from '../transport/message-bus.js';
import { BUS_FIRST_REGION, WASM_PAGE } from '../../assembly/layout/bus.js';
import { REGION_ALIGN } from '../../assembly/layout/ring.js';
import { STRERROR, VbusError, vbusError } from '../errors.js';
import { HostConnector, SPAWN_GUEST_OPTION_KEYS, type SpawnGuestOptions } from './host-connector.js';
import type { GuestWorker } from '../connector/spawn-guest.js';
import type { ConnFaultReport } from '../connector/bus-endpoint.js';
import { backendRunner, hasBackendRunner } from '../connector/backend/runner.js';
import { Bus } from './bus.js';
import { Device } from './device.js';
import { DeviceClass, DeviceClassSpec } from './device-class.js';
import { Emitter, reportListenerError } from './emitter.js';
import type { BusRegion, Link } from './link.js';
import { Member } from './member.js';
import { checkName } from './names.js';
import { checkIntegerOption, checkOptionKeys } from './options.js';

/** Options of {@link VbusHost.createBus}. */
export interface CreateBusOptions {
  /**
   * Bytes of bus memory to reserve (rounded up to 64 KiB pages). Default: one page,
   * enough for devices whose classes need no `busBytes`. Size it with
   * {@link VbusHost.memoryBytesFor}; the memory cannot grow later.
   */
  memoryBytes?: number;
  /**
   * How the bus memory reaches guests: 'shared' (one SharedArrayBuffer-backed memory,
   * Atomics) or 'message' (a private copy per side, kept in step by batched
   * postMessage; src/transport/). Default: 'shared' where shared memory is allowed,
   * else 'message'.
   */
  transport?: BusTransport;
}

/** Shared memory can be created and handed to workers here (and Atomics.waitAsync exists for the host). */
function sharedMemoryAllowed(): boolean {
  return isCrossOriginIsolated() && typeof Atomics !== 'undefined' && typeof Atomics.waitAsync === 'function';
}

/** Options of {@link VbusHost.join}. */
export interface JoinOptions {
  /** The member id to use (a positive integer; EEXIST if taken). Default: the next free id. */
  id?: number;
  /** The member this one is a child of; the child inherits its bus. */
  parent?: Member;
}

/** Options of {@link VbusHost.setPlacement}. */
export interface PlacementOptions {
  /**
   * Backend placement only: serve the device on a backend thread of its own instead of a
   * shared pool thread (a hot device). Pinned threads are capped at the cores; a pin
   * beyond that is served by the shared threads (`/sys/vbus/backends` shows where).
   */
  pin?: boolean;
}

/** The keys of the option objects (the compiler checks each list is complete); others are refused. */
const CREATE_BUS_OPTION_KEYS: readonly string[] = Object.keys({ memoryBytes: true, transport: true } satisfies Record<keyof CreateBusOptions, true>);
const JOIN_OPTION_KEYS: readonly string[] = Object.keys({ id: true, parent: true } satisfies Record<keyof JoinOptions, true>);
const PLACEMENT_OPTION_KEYS: readonly string[] = Object.keys({ pin: true } satisfies Record<keyof PlacementOptions, true>);

/** Counts of live objects, for leak checks. */
export interface HostStats {
  classes: number;
  devices: number;
  buses: number;
  members: number;
  links: number;
  /** Sum of the live buses' memory sizes. */
  busMemoryBytes: number;
  /** Live buses per transport ('shared': SharedArrayBuffer + Atomics; 'message': batched postMessage). */
  transports: Record<BusTransport, number>;
}

/** Events the host emits (after the change). */
export type HostEvents = {
  'class-register': (cls: DeviceClass) => void;
  'class-unregister': (cls: DeviceClass) => void;
  'bus-create': (bus: Bus) => void;
  'bus-destroy': (bus: Bus) => void;
  'device-create': (device: Device) => void;
  'device-type': (device: Device) => void;
  'device-destroy': (device: Device) => void;
  'link': (link: Link) => void;
  'unlink': (link: Link) => void;
  'member-join': (member: Member) => void;
  'member-leave': (member: Member) => void;
  /**
   * A guest failed: an uncaught error, a module that did not load, a driver's
   * probe/remove that threw. Also in what its `exited` resolves to. Logged with
   * console.error when neither this event nor the guest's onError has a listener.
   */
  'guest-error': (guest: GuestWorker, error: VbusError) => void;
  /**
   * The host found a connection of `device` faulted (a ring a guest corrupted): it needs
   * a reset (the driver's reset(), or the bus's). `fault` names the bus, member, handle
   * and the reason from the host's table.
   */
  'device-fault': (device: Device, fault: ConnFaultReport) => void;
};

/** Options of the {@link VbusHost} constructor. */
export interface VbusHostOptions {
  /** Transport of buses created without one (see {@link CreateBusOptions.transport}). */
  transport?: BusTransport;
}

/** Largest device id on a bus and largest member id (ids stay non-negative i32 on the wire). */
export const MAX_ID = 0x7fffffff;

export class VbusHost {
  /** Host-wide events. */
  readonly events = new Emitter<HostEvents>();
  private readonly classMap = new Map<string, DeviceClass>();
  private readonly deviceMap = new Map<string, Device>();
  private readonly busMap = new Map<string, Bus>();
  private readonly memberMap = new Map<number, Member>();
  private nextMemberId = 1;
  private nextBusId = 1;
  private connectorInstance: HostConnector | undefined;
  private released = false;
  private releasing: Promise<void> | undefined;

  constructor(private readonly options: VbusHostOptions = {}) {
    if (options.transport !== undefined && options.transport !== 'shared' && options.transport !== 'message') {
      throw vbusError('EINVAL', `host transport '${String(options.transport)}' must be 'shared' or 'message'`, { transport: options.transport });
    }
  }


  // ---- device classes ----

  /** Registers a device class. EINVAL for a malformed spec, EEXIST for a taken name. */
  registerClass(spec: DeviceClassSpec): DeviceClass {
    this.live();
    const cls = new DeviceClass(spec);
    if (this.classMap.has(cls.name)) {
      throw vbusError('EEXIST', `device class ${cls.name} is already registered`, { className: cls.name });
    }
    this.classMap.set(cls.name, cls);
    this.events.emit('class-register', cls);
    return cls;
  }

  /** Unregisters a class. ENOENT if unknown, EBUSY while devices of the class exist. */
  unregisterClass(cls: DeviceClass | string): void {
    this.live();
    const c = this.resolveClass(cls);
    if (c.deviceCount > 0) {
      throw vbusError('EBUSY', `device class ${c.name} is in use by ${c.deviceCount} device(s): ${c.devices().map((d) => d.name).join(', ')}`, { className: c.name, devices: c.deviceCount });
    }
    this.classMap.delete(c.name);
    c._unregister();
    this.events.emit('class-unregister', c);
  }

  // ---- buses ----

  /** Creates a bus with its own memory. EINVAL for a bad name or size, EEXIST for a taken name. */
  createBus(name: string, opts: CreateBusOptions = {}): Bus {
    this.live();
    checkName(name, 'bus');
    checkOptionKeys(opts, CREATE_BUS_OPTION_KEYS, `createBus(${JSON.stringify(name)})`);
    checkIntegerOption(opts.memoryBytes, 'memoryBytes', `createBus(${JSON.stringify(name)})`, 1);
    if (this.busMap.has(name)) throw vbusError('EEXIST', `bus ${name} already exists`, { bus: name });
    const transport = opts.transport ?? this.options.transport ?? (sharedMemoryAllowed() ? 'shared' : 'message');
    const memory = BusMemory.create({ bytes: opts.memoryBytes ?? WASM_PAGE, busId: this.nextBusId, transport });
    this.nextBusId = this.nextBusId >= MAX_ID ? 1 : this.nextBusId + 1;
    const bus = new Bus(this, name, memory);
    this.busMap.set(name, bus);
    this.events.emit('bus-create', bus);
    return bus;
  }

  /** Destroys a bus and releases its memory. ENOENT if unknown; EBUSY with members or devices. */
  destroyBus(bus: Bus | string): void {
    this.live();
    const b = this.resolveBus(bus);
    if (b.memberCount > 0) {
      throw vbusError('EBUSY', `bus ${b.name} has ${b.memberCount} member(s) (${b.members().map((m) => m.id).join(', ')}); they must leave first`, { bus: b.name, members: b.memberCount });
    }
    if (b.deviceCount > 0) {
      throw vbusError('EBUSY', `bus ${b.name} has ${b.deviceCount} device(s) linked (${b.devices().map((d) => `${d.id}: ${d.device.name}`).join(', ')}); unlink them first`, { bus: b.name, devices: b.deviceCount });
    }
    this.busMap.delete(b.name);
    hostMirror(b.memory)?.close();
    b.memory.release();
    this.events.emit('bus-destroy', b);
    b._kill();
  }

  /**
   * Bus memory needed to link devices of the given classes (one entry per device):
   * the bus header plus each class's `busBytes` at region alignment, in whole pages.
   */
  memoryBytesFor(classes: Iterable<DeviceClass | string>): number {
    this.live();
    let bytes = BUS_FIRST_REGION;
    for (const c of classes) bytes += Math.ceil(this.resolveClass(c).busBytes / REGION_ALIGN) * REGION_ALIGN;
    return Math.ceil(bytes / WASM_PAGE) * WASM_PAGE;
  }

  // ---- devices ----

  /** Creates an untyped device. EINVAL for a bad name, EEXIST for a taken name. */
  createDevice(name: string): Device {
    this.live();
    checkName(name, 'device');
    if (this.deviceMap.has(name)) throw vbusError('EEXIST', `device ${name} already exists`, { device: name });
    const d = new Device(this, name);
    this.deviceMap.set(name, d);
    this.events.emit('device-create', d);
    return d;
  }

  /**
   * Gives a device its class: makes its attributes (initial values) and its model.
   * ENOENT for an unknown device or class ("No such file or directory"), EEXIST if
   * the device already has a type; if the class's `create` throws, the device stays
   * untyped.
   */
  setType(device: Device | string, className: string): void {
    this.live();
    const d = this.resolveDevice(device);
    if (d.deviceClass) {
      throw vbusError('EEXIST', `device ${d.name} already has type ${d.deviceClass.name}; destroy and re-create it to change the type`, { device: d.name, type: d.deviceClass.name });
    }
    const cls = this.classMap.get(className);
    if (!cls) {
      throw vbusError('ENOENT', `${STRERROR.ENOENT}: no device class ${JSON.stringify(className)} (registered: ${[...this.classMap.keys()].join(', ') || 'none'})`, { device: d.name, type: className });
    }
    d._type(cls, new Map(cls.attributes.map((a) => [a.name, a.initial ?? ''])));
    let model;
    try {
      model = cls._create(d);
    } catch (err) {
      d._untype();
      throw asVbusError(err, 'EINVAL', `class ${cls.name} refused to create device ${d.name}`);
    }
    d._setModel(model);
    cls._adopt(d);
    this.events.emit('device-type', d);
  }

  /**
   * Places a device's data path in the host thread (default) or in the backend pool (a
   * pool thread that serves the device's calls and rings directly, shared with other
   * backend devices; `{ pin: true }` gives it a thread of its own). ENOENT without a
   * type, ENOTSUP if the class has no backend factory or the platform has no backend
   * runner, EINVAL for a pin outside backend placement, EBUSY while the device is linked.
   */
  setPlacement(device: Device | string, placement: 'host' | 'backend', opts: PlacementOptions = {}): void {
    this.live();
    checkOptionKeys(opts, PLACEMENT_OPTION_KEYS, 'setPlacement');
    const dev = this.resolveDevice(device);
    if (placement !== 'host' && placement !== 'backend') {
      throw vbusError('EINVAL', `placement '${String(placement)}' must be 'host' or 'backend'`, { placement });
    }
    if (opts.pin !== undefined && typeof opts.pin !== 'boolean') throw vbusError('EINVAL', `pin must be true or false, not ${String(opts.pin)}`, { pin: opts.pin });
    if (opts.pin && placement !== 'backend') throw vbusError('EINVAL', `only a backend-placed device can be pinned to a thread (placement '${placement}')`, { placement });
    const cls = dev.deviceClass;
    if (!cls) throw vbusError('ENOENT', `device ${dev.name} has no type yet: set its type before its placement`, { device: dev.name });
    if (placement === 'backend' && !cls.backend) {
      throw vbusError('ENOTSUP', `class ${cls.name} cannot run in a backend worker (it has no backend factory)`, { cls: cls.name });
    }
    if (placement === 'backend' && !hasBackendRunner()) {
      throw vbusError('ENOTSUP', 'this platform runs no backend threads (Node does); keep the device in the host thread', {});
    }
    if (dev.links().length > 0) throw vbusError('EBUSY', `device ${dev.name} is linked: unlink it before changing its placement`, { device: dev.name });
    dev.setPlacementInternal(placement, opts.pin === true);
  }

  /**
   * The backend pool's threads that serve devices of this host, with those devices
   * (`/sys/vbus/backends`). Empty where the platform has no backends.
   */
  backendThreads(): Array<{ thread: number; pinned: boolean; devices: Array<{ bus: string; id: number }> }> {
    // No live() check: a released host's admin tree still lists (it simply has no threads).
    if (!hasBackendRunner()) return [];
    return backendRunner().threads()
      .map((t) => ({ thread: t.id, pinned: t.pinned, devices: t.devices.filter((d) => d.owner === this).map((d) => ({ bus: d.busName, id: d.deviceId })) }))
      .filter((t) => t.devices.length > 0);
  }

  /** Guests and the connector of this host (created on first use). */
  get connector(): HostConnector {
    this.live();
    this.connectorInstance ??= new HostConnector(this);
    return this.connectorInstance;
  }

  /**
   * Starts the ES module at `url` as a guest worker on `bus` (a new member; with
   * `parent`, a child that inherits the parent's bus). The worker calls `joinBus()`.
   */
  spawnGuest(bus: Bus | string, url: URL, opts: SpawnGuestOptions = {}): GuestWorker {
    this.live();
    checkOptionKeys(opts, SPAWN_GUEST_OPTION_KEYS, 'spawnGuest');
    if (opts.callTurns !== undefined && typeof opts.callTurns !== 'boolean') {
      throw vbusError('EINVAL', `spawnGuest: callTurns must be true or false, not ${JSON.stringify(opts.callTurns)}`, { option: 'callTurns' });
    }
    return this.connector.spawnGuest(this.resolveBus(bus), url, opts);
  }

  /** Destroys a device. ENOENT if unknown, EBUSY while it is linked to any bus. */
  destroyDevice(device: Device | string): void {
    this.live();
    const d = this.resolveDevice(device);
    const links = d.links();
    if (links.length > 0) {
      throw vbusError('EBUSY', `device ${d.name} is linked to ${links.map((l) => `bus ${l.bus.name} as ${l.id}`).join(', ')}; unlink it first`, { device: d.name, buses: links.map((l) => l.bus.name) });
    }
    this.deviceMap.delete(d.name);
    d.deviceClass?._drop(d);
    const model = d.model;
    if (model?.release) {
      try { model.release(); } catch (err) { reportListenerError(err); }
    }
    this.events.emit('device-destroy', d);
    d._kill();
  }

  // ---- links ----

  /**
   * Links a device to a bus and returns its id there (ids increase, never reused on a
   * bus). EINVAL if the device has no type, EEXIST if already on this bus, EBUSY if its
   * class is exclusive and it is on another bus, ENOSPC if its `busBytes` do not fit in
   * the bus memory; the model's `linked` may refuse too. Emits `device-add` on the bus.
   */
  link(bus: Bus | string, device: Device | string): number {
    this.live();
    const b = this.resolveBus(bus);
    const d = this.resolveDevice(device);
    const cls = d.deviceClass;
    if (!cls) throw vbusError('EINVAL', `device ${d.name} has no type yet; set its type before linking it to bus ${b.name}`, { device: d.name, bus: b.name });
    const existing = d.linkTo(b);
    if (existing) throw vbusError('EEXIST', `device ${d.name} is already on bus ${b.name} as ${existing.id}`, { device: d.name, bus: b.name, id: existing.id });
    const others = d.links();
    if (cls.exclusive && others.length > 0) {
      throw vbusError('EBUSY', `device ${d.name} (class ${cls.name}) is exclusive and already on bus ${others[0]!.bus.name}`, { device: d.name, bus: b.name, on: others[0]!.bus.name });
    }
    if (d.placement === 'backend' && b.memory.transport === 'message') {
      throw vbusError('ENOTSUP', `device ${d.name} runs in a backend worker, which needs shared memory; bus ${b.name} runs on the message transport: keep the device in the host thread`, { device: d.name, bus: b.name });
    }
    const id = b._peekId();
    if (id > MAX_ID) throw vbusError('ENOSPC', `bus ${b.name} has used all device ids`, { bus: b.name });
    const used = new Set(others.map((l) => l.index));
    let index = 0;
    while (used.has(index)) index++;
    let region: BusRegion | null = null;
    if (cls.busBytes > 0) {
      const offset = b.memory.allocRegion(cls.busBytes, `device ${d.name} (class ${cls.name}) on bus ${b.name}`);
      region = Object.freeze({ offset, bytes: b.memory.allocator!.sizeOf(offset)! });
    }
    const link: Link = Object.freeze({ bus: b, device: d, id, index, region });
    b._addLink(link);
    d._addLink(link);
    if (d.model?.linked) {
      try {
        d.model.linked(b, id);
      } catch (err) {
        b._undoLink(link);
        d._removeLink(b);
        if (region) b.memory.freeRegion(region.offset);
        throw asVbusError(err, 'EIO', `device ${d.name} refused the link to bus ${b.name}`);
      }
    }
    b.events.emit('device-add', id, d);
    d.events.emit('link', link);
    this.events.emit('link', link);
    return id;
  }

  /** Unlinks a device from a bus. ENOENT if either is unknown or they are not linked. Emits `device-remove`. */
  unlink(bus: Bus | string, device: Device | string): void {
    this.live();
    const b = this.resolveBus(bus);
    const d = this.resolveDevice(device);
    const link = d.linkTo(b);
    if (!link) throw vbusError('ENOENT', `device ${d.name} is not linked to bus ${b.name}`, { device: d.name, bus: b.name });
    b._removeLink(link.id);
    d._removeLink(b);
    if (link.region) b.memory.freeRegion(link.region.offset);
    if (d.model?.unlinked) {
      try { d.model.unlinked(b, link.id); } catch (err) { reportListenerError(err); }
    }
    b.events.emit('device-remove', link.id, d);
    d.events.emit('unlink', link);
    this.events.emit('unlink', link);
  }

  // ---- members ----

  /**
   * Adds a member to a bus. With a parent (a live member of the same bus) the new member
   * is its child and inherits its bus; EINVAL if the parent is on another bus. The id
   * is `opts.id` (EINVAL if not a positive integer; EEXIST if already a member of this
   * bus, EBUSY if a member of another bus — a member is on one bus at most) or the next
   * free one. Forms: `join(bus)`, `join(bus, { id })`, `join(bus, parent)`,
   * `join(bus, parent, { id })`.
   */
  join(bus: Bus | string, parentOrOpts?: Member | JoinOptions, opts?: JoinOptions): Member {
    this.live();
    const b = this.resolveBus(bus);
    let parent: Member | null;
    if (parentOrOpts instanceof Member) parent = parentOrOpts;
    else { opts = parentOrOpts; parent = opts?.parent ?? null; }
    checkOptionKeys(opts, JOIN_OPTION_KEYS, 'join');
    if (parent) {
      if (parent.host !== this || !parent.isAlive) throw vbusError('ENOENT', `parent member ${parent.id} is not a member of any bus`, { parent: parent.id });
      if (parent.bus !== b) {
        throw vbusError('EINVAL', `member ${parent.id} is on bus ${parent.bus!.name}; its child inherits that bus and cannot join ${b.name}`, { parent: parent.id, bus: b.name });
      }
    }
    let id: number;
    if (opts?.id !== undefined) {
      id = opts.id;
      if (!Number.isSafeInteger(id) || id <= 0 || id > MAX_ID) {
        throw vbusError('EINVAL', `member id ${id} must be an integer from 1 to ${MAX_ID}`, { id });
      }
      const other = this.memberMap.get(id);
      if (other) {
        if (other.bus === b) throw vbusError('EEXIST', `member ${id} is already on bus ${b.name}`, { id, bus: b.name });
        throw vbusError('EBUSY', `member ${id} is on bus ${other.bus!.name}; a member belongs to one bus at a time, leave it first`, { id, bus: b.name, on: other.bus!.name });
      }
    } else {
      id = this.freeMemberId();
    }
    const m = new Member(this, id, b, parent);
    this.memberMap.set(id, m);
    parent?._addChild(m);
    b._addMember(m);
    b.events.emit('member-join', m);
    this.events.emit('member-join', m);
    return m;
  }

  /** A child of `parent` on the parent's bus (what a spawned worker gets): `join(parent.bus, parent, opts)`. */
  fork(parent: Member, opts: { id?: number } = {}): Member {
    this.live();
    if (!parent.isAlive) throw vbusError('ENOENT', `member ${parent.id} has left its bus`, { id: parent.id });
    return this.join(parent.bus!, parent, opts);
  }

  /** Removes a member and its descendants (deepest first) from their bus. ENOENT if not a member. */
  leave(member: Member | number): void {
    this.live();
    const m = this.resolveMember(member);
    const order: Member[] = [];
    const visit = (x: Member): void => { for (const c of x.children) visit(c); order.push(x); };
    visit(m);
    for (const x of order) {
      const b = x.bus!;
      this.memberMap.delete(x.id);
      x.parent?._removeChild(x);
      b._removeMember(x);
      x._kill();
      b.events.emit('member-leave', x);
      this.events.emit('member-leave', x);
    }
  }

  // ---- lifetime ----

  /** Undoes everything configured: members leave, devices are unlinked, buses and devices destroyed. Classes stay. */
  teardown(): void {
    this.live();
    for (const m of [...this.memberMap.values()]) if (m.isAlive && m.parent === null) this.leave(m);
    for (const m of [...this.memberMap.values()]) if (m.isAlive) this.leave(m);
    for (const b of [...this.busMap.values()]) {
      for (const { device } of b.devices()) this.unlink(b, device);
      this.destroyBus(b);
    }
    for (const d of [...this.deviceMap.values()]) this.destroyDevice(d);
  }

  /**
   * Releases everything this host started: `teardown()` (members leave, so their guest
   * workers are stopped; devices are unlinked; buses and devices destroyed), every class
   * unregistered, host listeners dropped; the returned promise settles once the
   * connector has stopped every guest worker, bus endpoint and backend worker. The
   * object model is gone when this returns; await the promise before the process
   * should exit. Every later call on this host fails with EBADF. Idempotent.
   */
  release(): Promise<void> {
    if (this.released) return this.releasing ?? Promise.resolve();
    this.teardown();
    for (const c of [...this.classMap.values()]) this.unregisterClass(c);
    const connector = this.connectorInstance;
    this.released = true;
    this.releasing = connector ? connector.release() : Promise.resolve();
    this.events.clear();
    return this.releasing;
  }

  /** True once release() was called. */
  get isReleased(): boolean { return this.released; }

  // ---- lookups ----

  /** The bus named `name`, or undefined. */
  bus(name: string): Bus | undefined { return this.busMap.get(name); }
  /** The device named `name`, or undefined. */
  device(name: string): Device | undefined { return this.deviceMap.get(name); }
  /** The class named `name`, or undefined. */
  deviceClass(name: string): DeviceClass | undefined { return this.classMap.get(name); }
  /** The member with id `id`, or undefined. */
  member(id: number): Member | undefined { return this.memberMap.get(id); }
  /** Buses in creation order. */
  buses(): Bus[] { return [...this.busMap.values()]; }
  /** Devices in creation order. */
  devices(): Device[] { return [...this.deviceMap.values()]; }
  /** Classes in registration order. */
  classes(): DeviceClass[] { return [...this.classMap.values()]; }
  /** Members in join order. */
  members(): Member[] { return [...this.memberMap.values()]; }

  /** Counts of live objects. */
  stats(): HostStats {
    let links = 0;
    let busMemoryBytes = 0;
    const transports: Record<BusTransport, number> = { shared: 0, message: 0 };
    for (const b of this.busMap.values()) { links += b.deviceCount; busMemoryBytes += b.memory.byteLength; transports[b.memory.transport]++; }
    return { classes: this.classMap.size, devices: this.deviceMap.size, buses: this.busMap.size, members: this.memberMap.size, links, busMemoryBytes, transports };
  }

  // ---- helpers ----

  /** Every operation on a released host fails with the same clear message. */
  private live(): void {
    if (this.released) {
      throw vbusError('EBADF', 'this VbusHost was released (host.release()); its buses, devices and guests are gone: create a new VbusHost', {});
    }
  }

  private resolveBus(bus: Bus | string): Bus {
    const b = typeof bus === 'string' ? this.busMap.get(bus) : bus;
    if (!b || !(b instanceof Bus) || b.host !== this || !b.isAlive) throw vbusError('ENOENT', `no bus ${typeof bus === 'string' ? bus : bus?.name}`, { bus: typeof bus === 'string' ? bus : bus?.name });
    return b;
  }

  private resolveDevice(device: Device | string): Device {
    const d = typeof device === 'string' ? this.deviceMap.get(device) : device;
    if (!d || !(d instanceof Device) || d.host !== this || !d.isAlive) throw vbusError('ENOENT', `no device ${typeof device === 'string' ? device : device?.name}`, { device: typeof device === 'string' ? device : device?.name });
    return d;
  }

  private resolveClass(cls: DeviceClass | string): DeviceClass {
    const name = typeof cls === 'string' ? cls : cls?.name;
    const c = this.classMap.get(name);
    if (!c || (typeof cls !== 'string' && c !== cls)) throw vbusError('ENOENT', `no device class ${name}`, { className: name });
    return c;
  }

  private resolveMember(member: Member | number): Member {
    const id = typeof member === 'number' ? member : member?.id;
    const m = this.memberMap.get(id);
    if (!m || (typeof member !== 'number' && m !== member)) throw vbusError('ENOENT', `no member ${id}`, { id });
    return m;
  }

  private freeMemberId(): number {
    for (let n = 0; n < MAX_ID; n++) {
      const id = this.nextMemberId;
      this.nextMemberId = id >= MAX_ID ? 1 : id + 1;
      if (!this.memberMap.has(id)) return id;
    }
    throw vbusError('ENOSPC', 'no free member id');
  }
}

/** Passes a VbusError through; turns anything else into one with `code`. */
function asVbusError(err: unknown, code: 'EINVAL' | 'EIO', context: string): VbusError {
  if (err instanceof VbusError) return err;
  return vbusError(code, `${context}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

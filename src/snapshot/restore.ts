/**
 * Restoring a snapshot (save.ts) into a host, normally a fresh runtime in another
 * process: `restoreBuses(host, bytes)`. In order:
 *  1. Everything is checked first: the file (magic, version, checksum), that no bus,
 *     device or member of that name or id exists here (EEXIST), that every class is
 *     registered (ENOENT).
 *  2. Buses are created with their memory sizes (and their endpoints); devices are
 *     created, typed, placed and loaded with their saved states (a state of a version a
 *     class cannot load fails here, naming both versions); each bus's memory image puts
 *     the saved regions back where they were (bus-image.ts, every region and span checked
 *     first); every device is linked under its saved id, each bus continues the saved id
 *     sequence; the connector's tables are checked against the image and the links and
 *     adopted (src/connector/endpoint-tables.ts): each saved guest's member waits with
 *     its call slot, event ring and connections, whose device models see open(),
 *     resumeConnection() and shm() again over rings that keep what they held. A failure
 *     undoes all of it.
 *  3. Guests are started again with their module, start data, the state their `onSave`
 *     returned (`guest.resumed`) and their connector's saved state, under their saved
 *     member ids, parents first. A guest that opens a device it had open takes its saved
 *     connection back (src/guest/resume.ts): no DEVOPEN, no DEVSHM, and the drivers keep
 *     what they learnt (features, geometry), so nothing is negotiated or asked again.
 */
import { vbusError } from '../errors.js';
import type { Bus } from '../host/bus.js';
import type { Device } from '../host/device.js';
import type { VbusHost } from '../host/host.js';
import type { Member } from '../host/member.js';
import type { GuestWorker, ParkedWorker } from '../connector/spawn-guest.js';
import { loadDeviceState } from '../state/device-state.js';
import { loadableVersions } from '../state/contract.js';
import { decodeSnapshot, type BusSnapshot } from './format.js';
import { applyImage } from './bus-image.js';

export interface RestoreResult {
  buses: Bus[];
  devices: Device[];
  /** Guest workers started again, by member id. */
  guests: Map<number, GuestWorker>;
}

/** Restores a snapshot's buses, devices and guests into `host`. `what` names the input in errors. */
export function restoreBuses(host: VbusHost, bytes: Uint8Array, what = 'bus snapshot'): RestoreResult {
  const snap = decodeSnapshot(bytes, what);
  const built = buildBuses(host, snap, what);
  return { ...built, guests: startGuests(host, snap) };
}

/** Buses and devices a snapshot was built into, before its guests start (a migration's target waits here for the go). */
export interface BuiltBuses {
  buses: Bus[];
  devices: Device[];
  /** Unlinks and destroys what was built (the guests were not started). */
  undo(): void;
}

/**
 * Steps 1 and 2 of the module comment: checks, then buses and devices. `ahead`: the
 * buses and typed devices made earlier by buildSkeleton (a migration's target makes them
 * while the pages come), which must be the snapshot's. A failure leaves nothing behind,
 * `ahead` included.
 */
export function buildBuses(host: VbusHost, snap: BusSnapshot, what = 'bus snapshot', ahead?: BuiltBuses): BuiltBuses {
  const built = ahead ?? buildSkeleton(host, snap, what);
  try {
    matchSkeleton(built, snap, what);
    for (const m of snap.members) if (host.member(m.id)) throw vbusError('EEXIST', `${what}: member ${m.id} already exists here`, { member: m.id });
    snap.devices.forEach((d, i) => {
      const dev = built.devices[i]!;
      if (d.placement !== 'host') host.setPlacement(dev, d.placement);
      loadDeviceState(dev, d.state);
    });
    snap.buses.forEach((b, i) => {
      const bus = built.buses[i]!;
      // The saved regions first, where they were: what linking places (a backend's doorbell) goes around them.
      if ((b.image === null) !== (b.connector === null)) throw vbusError('EINVAL', `${what}: bus ${b.name} has a memory image without connector tables, or tables without an image`, { bus: b.name });
      if (b.image) applyImage(bus.memory, b.image, `${what}: bus ${b.name}`);
      for (const l of [...b.links].sort((x, y) => x.id - y.id)) {
        bus._continueIdsFrom(l.id);
        const id = host.link(bus, l.device);
        if (id !== l.id) throw vbusError('EPROTO', `${what}: device ${l.device} got id ${id} on bus ${b.name}, not its saved ${l.id}`, { device: l.device });
      }
      bus._continueIdsFrom(b.nextId);
      // The connector's tables: members and their connections wait for their guests.
      if (b.connector) host.connector.endpoint(bus).adoptTables(b.connector, new Map((b.image?.regions ?? []).map((r) => [r.offset, r.bytes])), `${what}: bus ${b.name}`);
    });
  } catch (e) {
    built.undo();
    throw e;
  }
  return built;
}

/**
 * Step 1, then the buses (with their memory sizes) and the devices, created and typed
 * but neither loaded nor linked: everything of a build that does not need the saved
 * states. `shape` needs only names, sizes, classes and member ids. A failure leaves
 * nothing behind; `undo` destroys it all again.
 */
export function buildSkeleton(host: VbusHost, shape: BusSnapshot, what = 'bus snapshot'): BuiltBuses {
  checkRestorable(host, shape, what);
  const buses: Bus[] = [];
  const devices: Device[] = [];
  const undo = (): void => {
    for (const bus of buses) for (const { device } of bus.devices()) { try { host.unlink(bus, device); } catch { /* undoing */ } }
    for (const d of [...devices].reverse()) { try { host.destroyDevice(d); } catch { /* undoing */ } }
    for (const b of buses) { try { host.destroyBus(b); } catch { /* undoing */ } }
  };
  try {
    for (const b of shape.buses) buses.push(host.createBus(b.name, { memoryBytes: b.memoryBytes }));
    for (const d of shape.devices) {
      const dev = host.createDevice(d.name);
      devices.push(dev);
      host.setType(dev, d.state.cls);
    }
    // The buses' endpoints now, not at the first guest's start: a migration's target
    // builds this during pre-copy, and its GO then only adds members.
    for (const b of buses) host.connector.endpoint(b);
  } catch (e) {
    undo();
    throw e;
  }
  return { buses, devices, undo };
}

/** That `built` holds the snapshot's buses (names, sizes) and devices (names, classes), in order. */
function matchSkeleton(built: BuiltBuses, snap: BusSnapshot, what: string): void {
  const same = built.buses.length === snap.buses.length && built.devices.length === snap.devices.length
    && snap.buses.every((b, i) => built.buses[i]!.name === b.name && built.buses[i]!.memory.byteLength === b.memoryBytes)
    && snap.devices.every((d, i) => built.devices[i]!.name === d.name && built.devices[i]!.deviceClass?.name === d.state.cls);
  if (!same) throw vbusError('EPROTO', `${what}: the bus state names other buses, sizes or device classes than were announced`, {});
}

/**
 * Step 1 alone: that no bus, device or member of the snapshot exists here (EEXIST),
 * that every class is registered (ENOENT) and loads the saved state's version (ENOTSUP
 * naming both). Changes nothing.
 */
export function checkRestorable(host: VbusHost, snap: BusSnapshot, what = 'bus snapshot'): void {
  for (const b of snap.buses) if (host.bus(b.name)) throw vbusError('EEXIST', `${what}: bus ${b.name} already exists here`, { bus: b.name });
  for (const d of snap.devices) {
    if (host.device(d.name)) throw vbusError('EEXIST', `${what}: device ${d.name} already exists here`, { device: d.name });
    const cls = host.deviceClass(d.state.cls);
    if (!cls) throw vbusError('ENOENT', `${what}: device ${d.name} is of class ${d.state.cls}, which is not registered here`, { device: d.name, cls: d.state.cls });
    if (cls.state) {
      const versions = loadableVersions(cls.state);
      if (!versions.includes(d.state.version)) {
        throw vbusError('ENOTSUP', `${what}: ${cls.name} state version ${d.state.version} cannot be loaded into ${d.name}: this ${cls.name} writes version ${cls.state.version} and loads ${versions.join(', ')}${d.state.version > cls.state.version ? ' (the state is from a newer runtime)' : ''}`, { device: d.name, cls: cls.name, version: d.state.version, loads: versions });
      }
    }
  }
  for (const m of snap.members) if (host.member(m.id)) throw vbusError('EEXIST', `${what}: member ${m.id} already exists here`, { member: m.id });
}

/**
 * Step 3: starts the snapshot's guests again, parents first, under their saved member
 * ids; a guest with a worker in `parked` (started ahead by a migration's target) is
 * booted in it instead of a new one.
 */
export function startGuests(host: VbusHost, snap: BusSnapshot, parked?: ReadonlyMap<number, ParkedWorker>): Map<number, GuestWorker> {
  const guests = new Map<number, GuestWorker>();
  const members = new Map<number, Member>();
  for (const m of snap.members) {
    const bus = host.bus(m.bus)!;
    const parent = m.parent !== null ? members.get(m.parent) : undefined;
    if (m.guest) {
      const g = host.connector.spawnGuest(bus, new URL(m.guest.url), {
        id: m.id, ...(parent ? { parent } : {}),
        ...(m.guest.data !== null ? { data: m.guest.data } : {}), resume: m.guest.state ?? null,
        ...(m.guest.connector !== null ? { resumeConnector: m.guest.connector } : {}),
      }, parked?.get(m.id));
      guests.set(m.id, g);
      members.set(m.id, host.member(m.id)!);
    } else {
      members.set(m.id, host.join(bus, { id: m.id, ...(parent ? { parent } : {}) }));
    }
  }
  return guests;
}

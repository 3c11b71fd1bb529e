/**
 * Saving and loading one device: `saveDeviceState(device)` and
 * `loadDeviceState(device, state)`, and their file form (`encodeDeviceState`,
 * `decodeDeviceState`). The class's {@link DeviceStateSpec} does the model's part; this
 * module adds and checks what every class shares: the class name, the version, the
 * writable attributes.
 *
 * Loading is all or nothing. In order: the class must match (EINVAL naming both), the
 * version must be one the class loads (ENOTSUP naming both), the device must be unlinked
 * (EBUSY: a guest would see its device change under it), every attribute must exist and
 * be writable, the class's `prepare` must accept the data; only then are attributes
 * written (a refused write undoes the earlier ones) and the model's part applied.
 */
import { vbusError } from '../errors.js';
import type { Device } from '../host/device.js';
import { decodeDocument, encodeDocument, type StateValue } from './codec.js';
import { loadableVersions, type DeviceState, type DeviceStateSpec, type DeviceSaveOptions } from './contract.js';
import { StateReader } from './read.js';

/** Document kind of a device state file. */
export const DEVICE_STATE_KIND = 'device-state';

function specOf(device: Device, doing: string): DeviceStateSpec {
  const cls = device.deviceClass;
  if (!cls) throw vbusError('ENOENT', `cannot ${doing} device ${device.name}: it has no type yet`, { device: device.name });
  if (!cls.state) throw vbusError('ENOTSUP', `cannot ${doing} device ${device.name}: class ${cls.name} declares no state format`, { device: device.name, cls: cls.name });
  return cls.state;
}

/** Saves `device` (typed, of a class with a state format); `opts` as for DeviceStateSpec.save. */
export function saveDeviceState(device: Device, opts?: DeviceSaveOptions): DeviceState {
  const spec = specOf(device, 'save');
  const attrs: Record<string, string> = {};
  for (const a of device.deviceClass!.attributes) if (a.mode === 'rw') attrs[a.name] = device.attr(a.name);
  return { cls: device.deviceClass!.name, version: spec.version, attrs, data: spec.save(device, opts) };
}

/** Loads `state` into `device` (typed, of the same class, unlinked). All or nothing. */
export function loadDeviceState(device: Device, state: DeviceState): void {
  const spec = specOf(device, 'load a state into');
  const cls = device.deviceClass!;
  if (state.cls !== cls.name) {
    throw vbusError('EINVAL', `device ${device.name} is a ${cls.name}; the state was saved from a ${state.cls}`, { device: device.name, cls: cls.name, savedCls: state.cls });
  }
  const versions = loadableVersions(spec);
  if (!versions.includes(state.version)) {
    throw vbusError('ENOTSUP', `${cls.name} state version ${state.version} cannot be loaded into ${device.name}: this ${cls.name} writes version ${spec.version} and loads ${versions.join(', ')}${state.version > spec.version ? ' (the state is from a newer runtime)' : ''}`, { device: device.name, cls: cls.name, version: state.version, current: spec.version, loads: versions });
  }
  const links = device.links();
  if (links.length > 0) {
    throw vbusError('EBUSY', `device ${device.name} is linked to ${links.map((l) => l.bus.name).join(', ')}: load its state before linking it`, { device: device.name });
  }
  for (const name of Object.keys(state.attrs)) {
    const a = cls.attribute(name);
    if (!a) throw vbusError('EINVAL', `the saved ${cls.name} state names attribute ${name}, which ${cls.name} does not have`, { device: device.name, attribute: name });
    if (a.mode !== 'rw') throw vbusError('EINVAL', `the saved ${cls.name} state sets read-only attribute ${name}`, { device: device.name, attribute: name });
    if (typeof state.attrs[name] !== 'string') throw vbusError('EINVAL', `the saved attribute ${name} is not text`, { device: device.name, attribute: name });
  }
  const apply = spec.prepare(device, state.data, state.version, state.attrs);
  writeAttributes(device, state.attrs);
  apply();
}

/**
 * Writes saved attributes. One attribute's parser may depend on another's value (a
 * capacity must be a multiple of the block size), so refused writes are retried after
 * the others, while any progress is made; `enabled` goes last, as an administrator
 * configures a device before enabling it. On a final refusal every write is undone.
 */
function writeAttributes(device: Device, attrs: Readonly<Record<string, string>>): void {
  const before = new Map<string, string>();
  let todo = Object.keys(attrs).filter((n) => device.attr(n) !== attrs[n]);
  todo.sort((a, b) => Number(a === 'enabled') - Number(b === 'enabled'));
  let lastError: unknown = null;
  while (todo.length > 0) {
    const failed: string[] = [];
    for (const name of todo) {
      const old = device.attr(name);
      try {
        device.setAttr(name, attrs[name]!);
        if (!before.has(name)) before.set(name, old);
      } catch (e) {
        failed.push(name);
        lastError = e;
      }
    }
    if (failed.length === todo.length) {
      for (const [name, old] of [...before].reverse()) { try { device.setAttr(name, old); } catch { /* was valid before */ } }
      throw lastError;
    }
    todo = failed;
  }
}

/** The file form of a device state (see codec.ts). */
export function encodeDeviceState(state: DeviceState): Uint8Array {
  return encodeDocument(DEVICE_STATE_KIND, stateToValue(state));
}

/** Reads a device state file; EINVAL for anything but a whole, valid one. `what` names it in errors. */
export function decodeDeviceState(bytes: Uint8Array, what = 'device state'): DeviceState {
  return stateFromValue(decodeDocument(bytes, DEVICE_STATE_KIND, what).value, what);
}

/** A device state as a document value (for containers that hold several: snapshots, recordings). */
export function stateToValue(state: DeviceState): StateValue {
  return { cls: state.cls, version: state.version, attrs: { ...state.attrs }, data: state.data };
}

/** The inverse of {@link stateToValue}; EINVAL naming the field on a malformed value. */
export function stateFromValue(v: StateValue, what = 'device state'): DeviceState {
  const r = new StateReader(v, what);
  const attrs: Record<string, string> = {};
  const ar = r.field('attrs');
  for (const k of ar.keys()) attrs[k] = ar.field(k).str();
  return { cls: r.field('cls').str(), version: r.field('version').int(1, 0xffffffff), attrs, data: r.has('data') ? (r.value as Record<string, StateValue>)['data']! : null };
}

/**
 * Device state as a versioned contract. A device class that can be saved declares a
 * {@link DeviceStateSpec} (its `state` in the class spec): the version it writes, the
 * older versions it can still load, and two functions. `save` returns the model's part
 * (counters, negotiated features, tables, buffers, disk contents or a reference to
 * them); the contract adds the class name, the version and the device's writable
 * attributes. `prepare` checks a saved part completely and returns the change to make,
 * so that loading either fails before anything changed or succeeds whole.
 *
 * Why a version per class and not one for the runtime: classes change at their own
 * pace, and a class that learns to read its old format keeps old saves loadable while
 * every other class moves on. A state whose version the class does not list is refused
 * with an error that names both versions; it is never read "as best we can".
 */
import type { Device } from '../host/device.js';
import type { StateValue } from './codec.js';

/** A saved device: what {@link saveDeviceState} returns and {@link loadDeviceState} takes. */
export interface DeviceState {
  /** The class that wrote it (a device's `type`). */
  readonly cls: string;
  /** The version of the class's state format that wrote it. */
  readonly version: number;
  /** Writable attributes, as text. */
  readonly attrs: Readonly<Record<string, string>>;
  /** The class's own part (see {@link DeviceStateSpec.save}). */
  readonly data: StateValue;
}

/** How to save and load the devices of one class. */
export interface DeviceStateSpec {
  /** The version `save` writes (a positive integer; raise it when the format changes). */
  readonly version: number;
  /** Older versions `prepare` also reads. The current version is always read. */
  readonly loads?: readonly number[];
  /**
   * The model's part of the device's state. Called with the device quiet (no call being
   * served, its rings not moving): the caller arranges that (see src/snapshot). Throws a
   * VbusError when the device cannot be saved as it is (ENOTSUP: its data path runs in
   * a backend worker whose tables the host cannot read).
   */
  save(device: Device): StateValue;
  /**
   * Checks `data` (written by version `version`, one this class loads) against
   * `device`, a typed and unlinked device of this class whose attributes will be
   * `attrs`, and returns the function that applies it. Throws a VbusError (EINVAL
   * naming the field) and changes nothing when the data is unusable; the returned
   * function does not fail.
   */
  prepare(device: Device, data: StateValue, version: number, attrs: Readonly<Record<string, string>>): () => void;
}

/** The versions a spec loads, current first. */
export function loadableVersions(spec: DeviceStateSpec): number[] {
  return [spec.version, ...(spec.loads ?? []).filter((v) => v !== spec.version)];
}

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
import type { DeviceStateSpec } from '../host/device-state.js';

export type { DeviceState, DeviceStateSpec, DeviceSaveOptions } from '../host/device-state.js';

/** The versions a spec loads, current first. */
export function loadableVersions(spec: DeviceStateSpec): number[] {
  return [spec.version, ...(spec.loads ?? []).filter((v) => v !== spec.version)];
}

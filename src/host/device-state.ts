/**
 * The types of the device state contract that a device class declares (its `state` in
 * the class spec). They live with the host's object model so that src/host needs nothing
 * from src/state; the codec and the save/load functions are in src/state/contract.ts.
 */
import type { Device } from './device.js';
import type { StateValue } from '../state/codec.js';

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

/** Options of {@link DeviceStateSpec.save}. */
export interface DeviceSaveOptions {
  /**
   * Leave the fields {@link DeviceStateSpec.images} names null: the caller carries the
   * images apart (a migration, which has copied them page by page and reads the live
   * views of the quiet device instead of a copy).
   */
  readonly withoutImages?: boolean;
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
  save(device: Device, opts?: DeviceSaveOptions): StateValue;
  /**
   * Checks `data` (written by version `version`, one this class loads) against
   * `device`, a typed and unlinked device of this class whose attributes will be
   * `attrs`, and returns the function that applies it. Throws a VbusError (EINVAL
   * naming the field) and changes nothing when the data is unusable; the returned
   * function does not fail.
   */
  prepare(device: Device, data: StateValue, version: number, attrs: Readonly<Record<string, string>>): () => void;
  /**
   * Large byte arrays of the state as live views (a memory disk's contents), keyed by
   * the top-level field of `save`'s result that holds a copy of them. Optional. A live
   * migration (src/migrate) copies them page by page while the device runs, then sends
   * the state without them and only the pages that changed since.
   */
  images?(device: Device): Readonly<Record<string, Uint8Array>>;
  /**
   * Whether the device, its guests quiesced, has passed on everything it took from them
   * (no frame held for another port, no write taken but not yet applied). Optional: the
   * safe point of a save waits until every device says so, and pauses the whole
   * `settleMs` for a class that does not declare it.
   */
  settled?(device: Device): boolean;
}

/**
 * What a device class's factory returns: the behaviour behind one device. The host
 * calls these hooks; every hook is optional. Later layers (the connector) add their
 * own optional hooks (open, call, shm, close) to this interface by declaration
 * merging or extension, so it stays a set of optional members, never an index
 * signature.
 */
import type { Bus } from './bus.js';
import type { ConnectorModel } from '../connector/types.js';

export interface DeviceModel extends ConnectorModel {
  /**
   * The device was linked to `bus` as device `id`. Called after the link is recorded
   * and before `device-add` is emitted. Throwing (a `VbusError`) refuses the link: the
   * host undoes it and rethrows, so the state is as before.
   */
  linked?(bus: Bus, id: number): void;
  /** The device was unlinked from `bus` (id `id`). Called before `device-remove` is emitted; errors are reported, not propagated. */
  unlinked?(bus: Bus, id: number): void;
  /** Attribute `name` now holds `value` (already parsed and normalised). Errors are reported, not propagated. */
  attrChanged?(name: string, value: string): void;
  /** The device is being destroyed (it is on no bus any more). Errors are reported, not propagated. */
  release?(): void;
}

/**
 * A link: one device placed on one bus (the original's symlink from a bus instance to
 * a device, which begets an interface). Link records are host-private JS objects; the
 * bus memory holds at most the region the device's class asked for, never the table
 * that says which id is which device.
 */
import type { Bus } from './bus.js';
import type { Device } from './device.js';

/** A region of a bus memory reserved for one linked device (its `busBytes`). */
export interface BusRegion {
  /** Byte offset in the bus memory. */
  readonly offset: number;
  /** Length in bytes (the class's `busBytes` rounded up to the region alignment). */
  readonly bytes: number;
}

/** One device on one bus. */
export interface Link {
  readonly bus: Bus;
  readonly device: Device;
  /** The device's id on this bus (`/sys/vbus/instances/BUS/devices/ID`). */
  readonly id: number;
  /** The entry number under the device's `interfaces/` (lowest free per device). */
  readonly index: number;
  /** The bus memory reserved for this device on this bus, or null when its class needs none. */
  readonly region: BusRegion | null;
}

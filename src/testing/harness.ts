/**
 * A harness to run one device model against mock guests: a host with the class
 * registered, a bus, one device of that class linked to it, and as many worker-less
 * guests as the test wants. `release()` undoes all of it.
 *
 *   const h = DeviceHarness.start({ deviceClass: myClass });
 *   const g = h.guest();
 *   const c = await g.open(h.id);
 *   expect(await c.call(1, bytes)).toEqual(...);
 *   await h.release();
 */
import { VbusHost } from '../host/host.js';
import type { Bus } from '../host/bus.js';
import type { Device } from '../host/device.js';
import type { DeviceClassSpec } from '../host/device-class.js';
import { MockGuest } from './mock-guest.js';

export interface HarnessOptions {
  /** The class under test (registered on a fresh host). */
  deviceClass: DeviceClassSpec;
  /** Attributes written before the device is linked. */
  attributes?: Record<string, string>;
  /** Bus memory (default: 1 MiB, or more if the class needs it; see VbusHost.memoryBytesFor). */
  memoryBytes?: number;
  /** Where the device runs (default 'host'; 'backend' needs the Node entry point loaded). */
  placement?: 'host' | 'backend';
  /** Names (default 'harness-bus', 'harness-dev'). */
  busName?: string;
  deviceName?: string;
}

export class DeviceHarness {
  private readonly guests: MockGuest[] = [];

  private constructor(
    readonly host: VbusHost,
    readonly bus: Bus,
    readonly device: Device,
    /** The device's id on the bus. */
    readonly id: number,
  ) {}

  static start(opts: HarnessOptions): DeviceHarness {
    const host = new VbusHost();
    try {
      host.registerClass(opts.deviceClass);
      const bus = host.createBus(opts.busName ?? 'harness-bus', { memoryBytes: opts.memoryBytes ?? Math.max(1 << 20, host.memoryBytesFor([opts.deviceClass.name])) });
      const device = host.createDevice(opts.deviceName ?? 'harness-dev');
      host.setType(device, opts.deviceClass.name);
      for (const [name, value] of Object.entries(opts.attributes ?? {})) device.setAttr(name, value);
      if (opts.placement) host.setPlacement(device, opts.placement);
      const id = host.link(bus, device);
      return new DeviceHarness(host, bus, device, id);
    } catch (e) {
      host.release();
      throw e;
    }
  }

  /** A new worker-less guest on the harness's bus. */
  guest(): MockGuest {
    const g = MockGuest.join(this.host, this.bus);
    this.guests.push(g);
    return g;
  }

  /** The device model the host made (to inspect its state). */
  get model(): unknown { return this.device.model; }

  /** Guests leave, the connector stops, the host is released. */
  async release(): Promise<void> {
    for (const g of this.guests) g.leave();
    await this.host.connector.release();
    this.host.release();
  }
}

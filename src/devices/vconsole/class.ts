/**
 * The `vconsole` device class (interface `virtual-console`): attributes and factory.
 *
 *   endpoint  rw  where the host side is: memory (default), stdio, pipe:<path>,
 *                 tcp:<host>:<port>, pty[:<link>] (Node only except memory; see
 *                 src/platform/node-vconsole.ts)
 *   state     ro  open | error: <why> | closed
 *   rx_bytes  ro  bytes delivered to the guest (endpoint -> guest)
 *   tx_bytes  ro  bytes the guest wrote out (guest -> endpoint)
 *   drops     ro  refused records, output a failed endpoint could not take, ring faults
 *
 * Exclusive: a console sits on one bus. Host placement only (its endpoints are
 * event-loop objects), so the class has no backend factory.
 */
import type { DeviceClassSpec } from '../../host/device-class.js';
import type { Device } from '../../host/device.js';
import { CONSOLE_INTERFACE } from './abi.js';
import { checkEndpointSpec } from './endpoint.js';
import { ConsoleModel } from './model.js';
import { vconsoleState } from './state.js';

/** Class name written to a device's `type`. */
export const VCONSOLE_CLASS = 'vconsole';

function model(d: Device): ConsoleModel | null {
  return d.model instanceof ConsoleModel ? d.model : null;
}

/** The class spec; register it with `host.registerClass(vconsoleClass)`. */
export const vconsoleClass: DeviceClassSpec = {
  name: VCONSOLE_CLASS,
  interfaces: [CONSOLE_INTERFACE],
  exclusive: true,
  attributes: [
    { name: 'endpoint', mode: 'rw', initial: 'memory', parse: (text) => checkEndpointSpec(text) },
    { name: 'state', mode: 'ro', show: (d) => model(d)?.state ?? 'closed' },
    { name: 'rx_bytes', mode: 'ro', show: (d) => String(model(d)?.counters.rxBytes ?? 0) },
    { name: 'tx_bytes', mode: 'ro', show: (d) => String(model(d)?.counters.txBytes ?? 0) },
    { name: 'drops', mode: 'ro', show: (d) => String(model(d)?.counters.drops ?? 0) },
  ],
  state: vconsoleState,
  create: (device) => new ConsoleModel(device.attr('endpoint') || 'memory'),
};

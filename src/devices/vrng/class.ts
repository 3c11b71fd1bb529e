/**
 * The `vrng` device class (interface `virtual-entropy`): attributes and factory.
 *
 *   quota_bytes_per_s  rw  per-bus rate limit, a token bucket with one second of burst; 0 = unlimited
 *   bytes_served       ro  random bytes handed out, all buses
 *   requests           ro  GET_ENTROPY calls answered, all buses
 *
 * Not exclusive: one device may serve many buses, each with its own state (model.ts).
 * Host placement only: the counters and per-bus state live in the host's model.
 */
import type { DeviceClassSpec } from '../../host/device-class.js';
import type { Device } from '../../host/device.js';
import { ENTROPY_INTERFACE } from './abi.js';
import { parseEntropyQuota, EntropyModel } from './model.js';
import { vrngState } from './state.js';

/** Class name written to a device's `type`. */
export const VRNG_CLASS = 'vrng';

function model(d: Device): EntropyModel | null {
  return d.model instanceof EntropyModel ? d.model : null;
}

/** The class spec; register it with `host.registerClass(vrngClass)`. */
export const vrngClass: DeviceClassSpec = {
  name: VRNG_CLASS,
  interfaces: [ENTROPY_INTERFACE],
  attributes: [
    { name: 'quota_bytes_per_s', mode: 'rw', initial: '0', parse: (text) => String(parseEntropyQuota(text)) },
    { name: 'bytes_served', mode: 'ro', show: (d) => String(model(d)?.totals.bytesServed ?? 0) },
    { name: 'requests', mode: 'ro', show: (d) => String(model(d)?.totals.requests ?? 0) },
  ],
  state: vrngState,
  create: (device) => new EntropyModel(parseEntropyQuota(device.attr('quota_bytes_per_s') || '0')),
};

/**
 * The saved state of a vrng, format version 1:
 *
 *   totals  bytesServed, requests over every bus (the `bytes_served`, `requests` attributes)
 *   buses   per bus name: bytesServed, requests
 *
 * No entropy is saved: bytes drawn for a bus are never kept, so there is nothing to
 * save. A loaded device's token buckets start full, as a fresh link's do.
 */
import type { DeviceStateSpec } from '../../state/contract.js';
import { StateReader } from '../../state/read.js';
import type { StateValue } from '../../state/codec.js';
import type { Device } from '../../host/device.js';
import { vbusError } from '../../errors.js';
import { EntropyModel, type EntropyCounters } from './model.js';

/** The version this runtime writes. */
export const VRNG_STATE_VERSION = 1;

function model(device: Device): EntropyModel {
  return device.model as EntropyModel;
}

function save(device: Device): StateValue {
  const m = model(device);
  return { totals: { ...m.totals }, buses: m.perBus().map((b) => ({ ...b })) };
}

function prepare(device: Device, data: StateValue): () => void {
  const m = model(device);
  const r = new StateReader(data, 'vrng state');
  const counters = (x: StateReader): EntropyCounters => ({ bytesServed: x.field('bytesServed').int(), requests: x.field('requests').int() });
  const totals = counters(r.field('totals'));
  const buses = new Map<string, EntropyCounters>();
  for (const b of r.field('buses').items()) {
    const name = b.field('bus').str();
    if (buses.has(name)) throw vbusError('EINVAL', `vrng state: bus ${name} is listed twice`, { device: device.name, bus: name });
    buses.set(name, counters(b));
  }
  return () => {
    Object.assign(m.totals, totals);
    m.restoredBuses = buses;
  };
}

/** Always settled: entropy is answered within the call that asked for it; nothing is held. */
const settled = (): boolean => true;

/** The state format of the vrng class. */
export const vrngState: DeviceStateSpec = { version: VRNG_STATE_VERSION, save, prepare, settled };

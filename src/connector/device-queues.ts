/**
 * The device's ends of the rings a guest set up with DEVSHM (the guest holds the other
 * end of each: src/guest/connection.ts). Both sides use the one queue pair of
 * src/core/queue.ts; here the device takes its end of a region after checking the
 * region's direction:
 *
 *  - {@link deviceConsumer}: a SHM_RING_TO_DEVICE ring; the device consumes what the guest
 *    sent and, when it freed space, tells a waiting guest with `notifySpace()`.
 *  - {@link deviceProducer}: a SHM_RING_TO_GUEST ring; the device produces and tells the
 *    guest records arrived with `notifyData()` (suppressed while the guest is draining).
 *
 * The runtime calls the model's `poll(conn)` whenever a TO_DEVICE ring's data signal or a
 * TO_GUEST ring's space signal fires: in the host thread from an Atomics.waitAsync
 * watcher, in a backend worker from its blocking loop. Same model code either way.
 */
import { SHM_RING_TO_DEVICE, SHM_RING_TO_GUEST, SHM_BUFFER } from '../../assembly/layout/callslot.js';
import { vbusError } from '../errors.js';
import type { BusMemory } from '../core/bus-memory.js';
import { ConsumerEnd, ProducerEnd } from '../core/queue.js';
import type { DeviceConnection, ShmRegion } from './types.js';

/** The device's end of a guest -> device ring (EINVAL for a region of another kind). */
export function deviceConsumer(bus: BusMemory, region: ShmRegion): ConsumerEnd<ShmRegion> {
  if (region.kind !== SHM_RING_TO_DEVICE) throw vbusError('EINVAL', `region ${region.id} is not a guest-to-device ring`, { kind: region.kind });
  return new ConsumerEnd(bus, region);
}

/** The device's end of a device -> guest ring (EINVAL for a region of another kind). */
export function deviceProducer(bus: BusMemory, region: ShmRegion): ProducerEnd<ShmRegion> {
  if (region.kind !== SHM_RING_TO_GUEST) throw vbusError('EINVAL', `region ${region.id} is not a device-to-guest ring`, { kind: region.kind });
  return new ProducerEnd(bus, region);
}

/** A shared buffer region as bytes. */
export function deviceBuffer(bus: BusMemory, region: ShmRegion): Uint8Array {
  if (region.kind !== SHM_BUFFER) throw vbusError('EINVAL', `region ${region.id} is not a buffer`, { kind: region.kind });
  return bus.u8.subarray(region.offset, region.offset + region.bytes);
}

/** The connection's region for `queue`, or undefined. */
export function findQueue(conn: DeviceConnection, queue: number): ShmRegion | undefined {
  for (const r of conn.shms) if (r.queue === queue) return r;
  return undefined;
}

export { SHM_RING_TO_DEVICE, SHM_RING_TO_GUEST, SHM_BUFFER };

/**
 * Device-side views of the rings a guest set up with DEVSHM: the mirror image of
 * src/guest/shm.ts. A device model gets them from `conn.shms` with {@link deviceQueue}.
 *
 *  - {@link DeviceRxQueue}: a SHM_RING_TO_DEVICE ring; the device consumes what the guest
 *    sent and, when it freed space, tells a waiting guest with `kickSpace()`.
 *  - {@link DeviceTxQueue}: a SHM_RING_TO_GUEST ring; the device produces and raises the
 *    guest's data signal with `kick()` (suppressed while the guest is busy draining).
 *
 * The runtime calls the model's `poll(conn)` whenever a TO_DEVICE ring's data signal or a
 * TO_GUEST ring's space signal fires: in the host thread from an Atomics.waitAsync
 * watcher, in a backend worker from its blocking loop. Same model code either way.
 */
import { SHM_RING_TO_DEVICE, SHM_RING_TO_GUEST, SHM_BUFFER } from '../../assembly/layout/callslot.js';
import { vbusError } from '../errors.js';
import type { BusMemory } from '../core/bus-memory.js';
import { RingConsumer, RingProducer } from '../core/ring.js';
import { Notifier } from '../core/signal.js';
import type { DeviceConnection, ShmRegion } from './types.js';

export class DeviceRxQueue {
  readonly ring: RingConsumer;
  private readonly space: Notifier;
  constructor(bus: BusMemory, readonly region: ShmRegion) {
    if (region.kind !== SHM_RING_TO_DEVICE) throw vbusError('EINVAL', `region ${region.id} is not a guest-to-device ring`, { kind: region.kind });
    this.ring = new RingConsumer(bus, { offset: region.offset, capacity: region.bytes });
    this.space = new Notifier(bus, region.spaceSignal);
  }
  /** Tells the guest that space was freed (call after releasing records). */
  kickSpace(): boolean { return this.space.raise(); }
}

export class DeviceTxQueue {
  readonly ring: RingProducer;
  private readonly data: Notifier;
  constructor(bus: BusMemory, readonly region: ShmRegion) {
    if (region.kind !== SHM_RING_TO_GUEST) throw vbusError('EINVAL', `region ${region.id} is not a device-to-guest ring`, { kind: region.kind });
    this.ring = new RingProducer(bus, { offset: region.offset, capacity: region.bytes });
    this.data = new Notifier(bus, region.dataSignal);
  }
  /** Raises the guest's data signal after committing records. */
  kick(): boolean { return this.data.raise(); }
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

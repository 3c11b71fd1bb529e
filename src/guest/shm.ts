/**
 * Guest-side views of a region set up by DEVSHM: a ring the guest produces into (with
 * the notifier that wakes the device and the waiter for space), a ring it consumes
 * (waiter for data, notifier for space), or a plain buffer.
 */
import { SHM_RING_TO_DEVICE, SHM_RING_TO_GUEST, SHM_BUFFER } from '../../assembly/layout/callslot.js';
import type { BusMemory } from '../core/bus-memory.js';
import { RingConsumer, RingProducer } from '../core/ring.js';
import { Notifier, Waiter } from '../core/signal.js';
import type { SpinPolicy } from '../core/adaptive-spin.js';
import type { ShmRegion } from '../connector/types.js';

export { SHM_RING_TO_DEVICE, SHM_RING_TO_GUEST, SHM_BUFFER };

/** A guest -> device ring: push records, then `kick()` to wake the device. */
export class TxQueue {
  readonly ring: RingProducer;
  readonly wake: Notifier;
  readonly space: Waiter;
  constructor(bus: BusMemory, readonly region: ShmRegion, readonly spin?: SpinPolicy) {
    this.ring = new RingProducer(bus, { offset: region.offset, capacity: region.bytes });
    this.wake = new Notifier(bus, region.dataSignal);
    this.space = new Waiter(bus, region.spaceSignal, spin);
  }
  /** Raises the device's data signal (suppressed when the device is already draining). */
  kick(): boolean { return this.wake.raise(); }
}

/** A device -> guest ring: pop records; `kick()` tells the device there is space again. */
export class RxQueue {
  readonly ring: RingConsumer;
  readonly data: Waiter;
  readonly space: Notifier;
  constructor(bus: BusMemory, readonly region: ShmRegion, readonly spin?: SpinPolicy) {
    this.ring = new RingConsumer(bus, { offset: region.offset, capacity: region.bytes });
    this.data = new Waiter(bus, region.dataSignal, spin);
    this.space = new Notifier(bus, region.spaceSignal);
  }
  kick(): boolean { return this.space.raise(); }
}

/** A plain shared buffer. */
export class SharedBuffer {
  readonly bytes: Uint8Array;
  constructor(bus: BusMemory, readonly region: ShmRegion) {
    this.bytes = bus.u8.subarray(region.offset, region.offset + region.bytes);
  }
  get offset(): number { return this.region.offset; }
}

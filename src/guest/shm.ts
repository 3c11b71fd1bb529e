/**
 * Guest-side view of a plain buffer set up by DEVSHM. Rings are the one queue pair of
 * src/core/queue.ts: the guest holds the producer end of a guest -> device ring and the
 * consumer end of a device -> guest ring (Connection.txQueue / rxQueue).
 */
import { SHM_RING_TO_DEVICE, SHM_RING_TO_GUEST, SHM_BUFFER } from '../../assembly/layout/callslot.js';
import type { BusMemory } from '../core/bus-memory.js';
import type { ShmRegion } from '../connector/types.js';

export { SHM_RING_TO_DEVICE, SHM_RING_TO_GUEST, SHM_BUFFER };

/** A plain shared buffer. */
export class SharedBuffer {
  readonly bytes: Uint8Array;
  constructor(bus: BusMemory, readonly region: ShmRegion) {
    this.bytes = bus.u8.subarray(region.offset, region.offset + region.bytes);
  }
  get offset(): number { return this.region.offset; }
}

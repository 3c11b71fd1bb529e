/**
 * The re-check (step c of assembly/signal.ts) for a device's rings. A device waits on a
 * guest-to-device ring for data (the guest moves TAIL) and on a device-to-guest ring for
 * space (the guest moves HEAD). Snapshot that index before draining; after re-enabling
 * notification, a different value means the guest published something while the signal
 * was disabled (so its raise was suppressed) and the device must drain again. Only a
 * change counts: a ring that still holds records the device cannot take yet (its output
 * is full) does not keep the device spinning.
 */
import { SHM_RING_TO_DEVICE } from '../../assembly/layout/callslot.js';
import { RING_OFF_TAIL, RING_OFF_HEAD } from '../../assembly/layout/ring.js';
import type { BusMemory } from '../core/bus-memory.js';
import type { ShmRegion } from './types.js';

/** Index of the word the guest moves on this ring (TAIL for guest->device, HEAD for device->guest). */
export function guestIndexWord(region: ShmRegion): number {
  return (region.offset + (region.kind === SHM_RING_TO_DEVICE ? RING_OFF_TAIL : RING_OFF_HEAD)) >> 2;
}

/** The guest-moved index now. */
export function guestIndex(bus: BusMemory, word: number): number {
  return Atomics.load(bus.u32, word); // after our ENABLED store (seq-cst pair with the guest's publish + raise)
}

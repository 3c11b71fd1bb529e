/**
 * DEVSHM's regions: placing a ring (with its two signals) or a buffer in a bus memory
 * for one connection, and returning them. A device whose model runs in a backend parks
 * on one doorbell, so the device's side of each ring signals that doorbell instead of a
 * signal of its own (DevicePlacement.sharedDoorbell); such a signal is not the ring's
 * to free.
 */
import { SHM_RING_TO_DEVICE, SHM_RING_TO_GUEST, SHM_BUFFER } from '../../assembly/layout/callslot.js';
import type { BusMemory } from '../core/bus-memory.js';
import { createRing, destroyRing } from '../core/ring.js';
import { createSignal, destroySignal } from '../core/signal.js';
import type { DevicePlacement } from './placement.js';
import type { ShmRegion } from './types.js';

/** Places a region; returns it with an undo that frees everything placed. Throws ENOSPC when the bus is full. */
export function placeShm(mem: BusMemory, id: number, queue: number, kind: number, bytes: number, placement: DevicePlacement | undefined): { region: ShmRegion; undo: () => void } {
  const placed: Array<() => void> = [];
  const undo = (): void => { for (const u of placed.reverse()) u(); placed.length = 0; };
  try {
    let offset: number, dataSignal = 0, spaceSignal = 0;
    if (kind === SHM_BUFFER) {
      offset = mem.allocRegion(bytes, 'shared buffer');
      placed.push(() => mem.freeRegion(offset));
      mem.u8.fill(0, offset, offset + bytes);
    } else {
      const ring = createRing(mem, bytes);
      offset = ring.offset;
      placed.push(() => destroyRing(mem, ring));
      const shared = placement?.sharedDoorbell;
      const deviceWaits = kind === SHM_RING_TO_DEVICE ? 'data' : 'space';
      const own = (): number => { const s = createSignal(mem); placed.push(() => destroySignal(mem, s)); return s; };
      dataSignal = shared !== undefined && deviceWaits === 'data' ? shared : own();
      spaceSignal = shared !== undefined && deviceWaits === 'space' ? shared : own();
    }
    return { region: { id, queue, kind, offset, bytes, dataSignal, spaceSignal }, undo };
  } catch (e) {
    undo();
    throw e;
  }
}

/** Returns a region placed by placeShm. */
export function freeShm(mem: BusMemory, r: ShmRegion, placement: DevicePlacement | undefined): void {
  if (r.kind === SHM_BUFFER) { mem.freeRegion(r.offset); return; }
  if (r.kind === SHM_RING_TO_DEVICE || r.kind === SHM_RING_TO_GUEST) {
    const shared = placement?.sharedDoorbell;
    destroyRing(mem, { offset: r.offset, capacity: r.bytes });
    if (r.dataSignal !== shared) destroySignal(mem, r.dataSignal);
    if (r.spaceSignal !== shared) destroySignal(mem, r.spaceSignal);
  }
}

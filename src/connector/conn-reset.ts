/**
 * Resetting one connection (virtio's device reset, per connection): its rings are
 * re-formatted from the host's own record of their geometry (offset, capacity: never
 * read back from the bus memory), their signals' identities restored, and the device
 * model sees the connection close and open again with the same regions, so whatever
 * state it kept per connection (ring ends that went sticky on a fault, cursors, queues)
 * is built anew. Buffers keep their bytes: they hold data, not protocol state.
 *
 * The same code runs in the host thread and in a backend worker, each for the models it
 * runs; the caller makes sure nothing else uses the device's ends meanwhile (the host
 * loop and a backend loop are single-threaded; the guest asked for the reset, or is
 * told by DEVRESET that its ends must be attached again).
 */
import { SHM_BUFFER } from '../../assembly/layout/callslot.js';
import type { BusMemory } from '../core/bus-memory.js';
import { formatRing } from '../core/ring.js';
import { restoreSignal, wakeSignal } from '../core/signal.js';
import type { ConnectorModel, DeviceConnection, ShmRegion } from './types.js';

/** Re-formats every ring of `shms` (empty, fault word clear) and restores its signals. */
export function formatConnRings(mem: BusMemory, shms: readonly ShmRegion[]): void {
  for (const r of shms) {
    if (r.kind === SHM_BUFFER) continue;
    formatRing(mem, { offset: r.offset, capacity: r.bytes });
    restoreSignal(mem, r.dataSignal);
    restoreSignal(mem, r.spaceSignal);
  }
}

/** Wakes whoever waits on the rings' signals, so both sides look at the fresh rings. */
export function wakeConnRings(mem: BusMemory, shms: readonly ShmRegion[]): void {
  for (const r of shms) {
    if (r.kind === SHM_BUFFER) continue;
    wakeSignal(mem, r.dataSignal);
    wakeSignal(mem, r.spaceSignal);
  }
}

/**
 * The model sees close, open and every region again. Throws what a hook threw (the
 * caller turns it into the reset call's answer); a refused region is left out.
 */
export function replayModel(model: ConnectorModel, conn: DeviceConnection, shms: readonly ShmRegion[]): void {
  model.close?.(conn);
  model.open?.(conn);
  for (const r of shms) model.shm?.(conn, r);
}

/**
 * Stats for a model in a backend pool thread: the same wrapper the host puts around its
 * models (src/stats/observe.ts, DeviceObserver), attached to the stats region the host
 * shared. The host assigns the slots (it owns the region's free lists): the device's
 * slot comes with the start message, a ring's slot with the ring's 'shm' message; the
 * thread is then the slots' only writer, as the host thread is for its own models.
 */
import { DeviceStats, RingStats, StatsRegion } from '../../stats/region.js';
import { DeviceObserver } from '../../stats/observe.js';
import type { DeviceModel } from '../../host/device-model.js';
import type { BackendModel } from './backend-member.js';

/** A backend model wrapped to count into its slots, and how to hand it a ring's slot. */
export interface ObservedBackendModel extends BackendModel {
  /** The ring at `offset` (about to be set up by a 'shm' message) counts into ring slot `slot`. */
  expectRing?(offset: number, slot: number): void;
}

export function observeBackendModel(model: BackendModel, at: { region: SharedArrayBuffer; slot: number }): ObservedBackendModel {
  const region = StatsRegion.attach(at.region);
  const expected = new Map<number, number>();
  const observer = new DeviceObserver(region, new DeviceStats(at.region, at.slot), {
    claim: (_dev, ring) => {
      const slot = expected.get(ring.offset);
      expected.delete(ring.offset);
      return slot === undefined ? null : new RingStats(at.region, slot, region.devSlots);
    },
    release: () => { /* the host frees ring slots when the connection closes */ },
  });
  const observed = observer.attach(model as DeviceModel) as ObservedBackendModel;
  delete (observed as DeviceModel).release; // the host releases the device's slot; the thread never touches the free lists
  observed.expectRing = (offset, slot) => { expected.set(offset, slot); };
  return observed;
}

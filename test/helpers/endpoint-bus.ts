// A bus memory with a started BusEndpoint and a way to start scripted guests on it,
// for connector tests that run below the VbusHost. releaseBuses() tears them all down.
import { BusMemory, BusEndpoint, startGuest, type BusEndpointOptions, type GuestWorker } from '../../dist/src/internal.js';
import { drive, SCRIPTED_URL, type Scripted } from './scripted.js';
import type { Transport } from './transports.js';

const live: Array<{ ep: BusEndpoint; guests: GuestWorker[] }> = [];

export function makeBus(name: string, bytes = 1 << 20, opts: BusEndpointOptions & { transport?: Transport } = {}) {
  const { transport = 'shared', ...endpointOpts } = opts;
  const mem = BusMemory.create({ bytes, transport });
  const ep = new BusEndpoint(mem, name, endpointOpts);
  ep.start();
  const rec = { ep, guests: [] as GuestWorker[] };
  live.push(rec);
  let nextChild = 1000;
  const children = new Map<number, Scripted>();
  const spawn = (memberId: number, data?: unknown): Scripted => {
    const g = startGuest(ep, memberId, SCRIPTED_URL, {
      ...(data !== undefined ? { data } : {}),
      onSpawnChild: (url) => { const id = nextChild++; const c = startGuest(ep, id, url); rec.guests.push(c); children.set(id, drive(c)); return id; },
    });
    rec.guests.push(g);
    return drive(g);
  };
  return { mem, ep, spawn, children };
}

export async function releaseBuses(): Promise<void> {
  for (const { ep, guests } of live.splice(0)) {
    for (const g of guests) await g.terminate();
    await ep.release();
  }
}

/**
 * The bus snapshot file: a versioned document (src/state/codec.ts) of kind
 * 'bus-snapshot', layout version SNAPSHOT_VERSION:
 *
 *   buses    name, memory bytes, the id the next link gets, links (device id -> device name)
 *   devices  name, class, placement, saved state (src/state: attributes, counters,
 *            negotiated features per port, tables, disk contents, console buffers)
 *   members  member id, bus, parent member, and for a guest worker the module it runs,
 *            its start data and the state its `onSave` returned
 *
 * Bus memory is not in the file: restored guests open fresh rings. The rings that
 * guests write are empty at the safe point (each guest's quiesce waited for its
 * requests), and what still waits in a guest's venet RX rings or vconsole input ring is
 * carried in the device's state (src/devices/venet/state.ts, vconsole/state.ts) and
 * put back.
 */
import { vbusError } from '../errors.js';
import { decodeDocument, encodeDocument, type StateValue } from '../state/codec.js';
import type { DeviceState } from '../state/contract.js';
import { stateFromValue, stateToValue } from '../state/device-state.js';
import { StateReader } from '../state/read.js';

export const SNAPSHOT_KIND = 'bus-snapshot';
/** The snapshot layout this runtime writes and reads. */
export const SNAPSHOT_VERSION = 1;

export interface SavedBus { name: string; memoryBytes: number; nextId: number; links: Array<{ id: number; device: string }> }
export interface SavedDevice { name: string; placement: 'host' | 'backend'; state: DeviceState }
export interface SavedMember { id: number; bus: string; parent: number | null; guest: { url: string; data: StateValue; state: StateValue } | null }

export interface BusSnapshot {
  version: number;
  buses: SavedBus[];
  devices: SavedDevice[];
  members: SavedMember[];
}

export function encodeSnapshot(s: BusSnapshot): Uint8Array {
  return encodeDocument(SNAPSHOT_KIND, {
    version: s.version,
    buses: s.buses.map((b) => ({ ...b, links: b.links.map((l) => ({ ...l })) })),
    devices: s.devices.map((d) => ({ name: d.name, placement: d.placement, state: stateToValue(d.state) })),
    members: s.members.map((m) => ({ id: m.id, bus: m.bus, parent: m.parent, guest: m.guest ? { ...m.guest } : null })),
  });
}

/** Reads a snapshot file; EINVAL when damaged, ENOTSUP for another layout version (naming both). */
export function decodeSnapshot(bytes: Uint8Array, what = 'bus snapshot'): BusSnapshot {
  const v = decodeDocument(bytes, SNAPSHOT_KIND, what).value;
  const r = new StateReader(v, what);
  const version = r.field('version').int(0, 0xffffffff);
  if (version !== SNAPSHOT_VERSION) {
    throw vbusError('ENOTSUP', `${what}: bus snapshot version ${version} cannot be read (this runtime reads version ${SNAPSHOT_VERSION})`, { what, version, supported: SNAPSHOT_VERSION });
  }
  return {
    version,
    buses: r.field('buses').items().map((b) => ({
      name: b.field('name').str(), memoryBytes: b.field('memoryBytes').int(1), nextId: b.field('nextId').int(),
      links: b.field('links').items().map((l) => ({ id: l.field('id').int(0, 0x7fffffff), device: l.field('device').str() })),
    })),
    devices: r.field('devices').items().map((d) => ({
      name: d.field('name').str(), placement: d.field('placement').oneOf(['host', 'backend'] as const),
      state: stateFromValue(d.field('state').value!, `${what}: device ${d.field('name').str()}`),
    })),
    members: r.field('members').items().map((m) => {
      const g = m.field('guest');
      const parent = m.field('parent');
      return {
        id: m.field('id').int(1, 0x7fffffff), bus: m.field('bus').str(), parent: parent.value === null ? null : parent.int(1, 0x7fffffff),
        guest: g.value === null ? null : { url: g.field('url').str(), data: g.has('data') ? g.field('data').value ?? null : null, state: g.has('state') ? g.field('state').value ?? null : null },
      };
    }),
  };
}

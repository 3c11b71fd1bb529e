/**
 * The bus snapshot file: a versioned document (src/state/codec.ts) of kind
 * 'bus-snapshot', layout version SNAPSHOT_VERSION:
 *
 *   buses    name, memory bytes, the id the next link gets, links (device id -> device
 *            name), the memory's image (its placed regions and their bytes:
 *            bus-image.ts) and the connector's tables for it (members, call slots,
 *            handles, regions: src/connector/endpoint-tables.ts)
 *   devices  name, class, placement, saved state (src/state: attributes, counters,
 *            negotiated features per port, tables, disk contents, console buffers)
 *   members  member id, bus, parent member, and for a guest worker the module it runs,
 *            its start data, the state its `onSave` returned and its connector's own
 *            state (open connections and what each driver keeps: src/guest/resume.ts)
 *
 * Version 2 added the image and the tables (restored guests take their connections and
 * rings back); version 1 files are refused, naming both versions.
 */
import { vbusError } from '../errors.js';
import { decodeDocument, encodeDocument, type StateValue } from '../state/codec.js';
import type { DeviceState } from '../state/contract.js';
import { stateFromValue, stateToValue } from '../state/device-state.js';
import { StateReader } from '../state/read.js';
import type { SavedEndpoint } from '../connector/endpoint-tables.js';
import type { SavedBusImage } from './bus-image.js';
import type { Span } from '../core/ring-span.js';

export const SNAPSHOT_KIND = 'bus-snapshot';
/** The snapshot layout this runtime writes and reads. */
export const SNAPSHOT_VERSION = 2;

export interface SavedBus { name: string; memoryBytes: number; nextId: number; links: Array<{ id: number; device: string }>; image: SavedBusImage | null; connector: SavedEndpoint | null }
export interface SavedDevice { name: string; placement: 'host' | 'backend'; state: DeviceState }
export interface SavedMember { id: number; bus: string; parent: number | null; guest: { url: string; data: StateValue; state: StateValue; connector: StateValue } | null }

export interface BusSnapshot {
  version: number;
  buses: SavedBus[];
  devices: SavedDevice[];
  members: SavedMember[];
}

export function encodeSnapshot(s: BusSnapshot): Uint8Array {
  return encodeDocument(SNAPSHOT_KIND, {
    version: s.version,
    buses: s.buses.map((b) => ({
      name: b.name, memoryBytes: b.memoryBytes, nextId: b.nextId, links: b.links.map((l) => ({ ...l })),
      image: b.image ? { regions: b.image.regions.map((r) => ({ ...r })), spans: b.image.spans.map((r) => ({ ...r })), data: b.image.data } : null,
      connector: b.connector ? tablesToValue(b.connector) : null,
    })),
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
      image: b.field('image').value === null ? null : {
        regions: b.field('image').field('regions').items().map(readSpan),
        spans: b.field('image').field('spans').items().map(readSpan),
        data: b.field('image').field('data').bytes(),
      },
      connector: b.field('connector').value === null ? null : readTables(b.field('connector')),
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
        guest: g.value === null ? null : {
          url: g.field('url').str(), data: g.has('data') ? g.field('data').value ?? null : null, state: g.has('state') ? g.field('state').value ?? null : null,
          connector: g.has('connector') ? g.field('connector').value ?? null : null,
        },
      };
    }),
  };
}

const U32 = 0xffffffff;

/** An image region or span: offset and length (their meaning is checked at restore: checkImage). */
function readSpan(r: StateReader): Span {
  return { offset: r.field('offset').int(0, U32), bytes: r.field('bytes').int(1, U32) };
}

function tablesToValue(t: SavedEndpoint): StateValue {
  return {
    slotPayload: t.slotPayload,
    members: t.members.map((m) => ({
      id: m.id, bit: m.bit, slot: m.slot, slotGen: m.slotGen, events: { ...m.events }, eventSignal: m.eventSignal,
      backlog: m.backlog.map((e) => ({ type: e.type, rec: e.rec })),
      conns: m.conns.map((c) => ({ handle: c.handle, deviceId: c.deviceId, version: c.version, resets: c.resets, regions: c.regions.map((r) => ({ ...r })), model: c.model })),
    })),
  };
}

/** The tables' shape and ranges (their meaning against the bus is checked at restore: checkTables). */
function readTables(r: StateReader): SavedEndpoint {
  return {
    slotPayload: r.field('slotPayload').int(1, U32),
    members: r.field('members').items().map((m) => ({
      id: m.field('id').int(1, 0x7fffffff), bit: m.field('bit').int(0, U32), slot: m.field('slot').int(0, U32), slotGen: m.field('slotGen').int(1, 0x7fffffff),
      events: { offset: m.field('events').field('offset').int(0, U32), capacity: m.field('events').field('capacity').int(1, U32) },
      eventSignal: m.field('eventSignal').int(0, U32),
      backlog: m.field('backlog').items().map((e) => ({ type: e.field('type').int(0, U32), rec: e.field('rec').bytes() })),
      conns: m.field('conns').items().map((c) => ({
        handle: c.field('handle').int(0, U32), deviceId: c.field('deviceId').int(0, U32), version: c.field('version').int(0, U32), resets: c.field('resets').int(0, U32),
        regions: c.field('regions').items().map((x) => ({
          id: x.field('id').int(0, U32), queue: x.field('queue').int(0, U32), kind: x.field('kind').int(0, U32), offset: x.field('offset').int(0, U32),
          bytes: x.field('bytes').int(1, U32), dataSignal: x.field('dataSignal').int(0, U32), spaceSignal: x.field('spaceSignal').int(0, U32),
        })),
        model: c.has('model') ? c.field('model').value ?? null : null,
      })),
    })),
  };
}

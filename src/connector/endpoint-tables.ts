/**
 * The connector's tables of one bus as a save carries them (src/snapshot): which member
 * has which pending bit, call slot, event ring and signal; each member's open handles
 * with their device, interface version, resets and regions; and what each device model
 * keeps per connection beyond open/shm (ConnectorModel.saveConnection). With the bus
 * memory image (src/snapshot/bus-image.ts) this is what lets a restored guest take its
 * connections back instead of opening them again.
 *
 * Everything here is read back from a file or a stream: `checkTables` validates every
 * field against the restored bus (regions the image placed, devices linked, bounds)
 * before anything is built from it.
 */
import { SHM_BUFFER, SHM_RING_TO_DEVICE, SHM_RING_TO_GUEST, SLOT_HEADER_BYTES } from '../../assembly/layout/callslot.js';
import { BUSCTL_MAX_MEMBERS } from '../../assembly/layout/busctl.js';
import { EV_RING_BYTES, EV_RECORD_MAX } from '../../assembly/layout/event.js';
import { EVENT_BACKLOG_MAX } from './endpoint-member.js';
import { SIG_BYTES } from '../../assembly/layout/signal.js';
import { RING_MAX_CAPACITY, RING_MIN_CAPACITY } from '../../assembly/layout/ring.js';
import { vbusError } from '../errors.js';
import { ringRegionBytes } from '../core/ring.js';
import type { StateValue } from '../state/codec.js';
import { HT_ENTRIES } from './decode-tables.js';
import type { ShmRegion } from './types.js';
import type { Span } from '../core/ring-span.js';

/** Regions of a bus memory a save carries (BusEndpoint.imagePlan), each with the spans of it whose bytes it carries. */
export type ImagePlan = Array<{ region: Span; spans: Span[] }>;

export interface SavedConnection {
  handle: number;
  deviceId: number;
  version: number;
  resets: number;
  regions: ShmRegion[];
  /** The model's own per-connection state (ConnectorModel.saveConnection), or null. */
  model: StateValue;
}

export interface SavedMemberTables {
  id: number;
  bit: number;
  slot: number;
  slotGen: number;
  events: { offset: number; capacity: number };
  eventSignal: number;
  /** Events that had not fit the member's ring (type, record). */
  backlog: Array<{ type: number; rec: Uint8Array }>;
  conns: SavedConnection[];
}

export interface SavedEndpoint {
  slotPayload: number;
  members: SavedMemberTables[];
}

/** What the checks need of the restored bus. */
export interface TableContext {
  slotPayload: number;
  /** Whether device `id` is linked to this bus with its model on the host thread. */
  hostDevice(id: number): boolean;
  /** The regions the saved image placed (offset -> bytes): every offset the tables name must be one, and each is named once. */
  placed: ReadonlyMap<number, number>;
}

/**
 * Checks saved tables against the bus they are restored into; throws EINVAL naming the
 * first field that is wrong. Every offset must be a region the image placed, of the size
 * its use needs, and used once.
 */
export function checkTables(t: SavedEndpoint, ctx: TableContext, what: string): void {
  const bad = (why: string): never => { throw vbusError('EINVAL', `${what}: connector tables: ${why}`, {}); };
  if (t.slotPayload !== ctx.slotPayload) bad(`call slots of ${t.slotPayload} bytes, this bus has ${ctx.slotPayload}`);
  const used = new Set<number>();
  const region = (offset: number, bytes: number, name: string): void => {
    if (!Number.isSafeInteger(offset) || !((ctx.placed.get(offset) ?? 0) >= bytes)) bad(`${name} at ${offset} is not a region of at least ${bytes} bytes in the image`);
    if (used.has(offset)) bad(`${name} at ${offset} is used twice`);
    used.add(offset);
  };
  const ids = new Set<number>(), bits = new Set<number>();
  for (const m of t.members) {
    const who = `member ${m.id}`;
    if (!Number.isSafeInteger(m.id) || m.id < 1 || ids.has(m.id)) bad(`${who}: the id is not a new positive integer`);
    ids.add(m.id);
    if (!Number.isInteger(m.bit) || m.bit < 0 || m.bit >= BUSCTL_MAX_MEMBERS || bits.has(m.bit)) bad(`${who}: pending bit ${m.bit} is out of range or taken`);
    bits.add(m.bit);
    if (!Number.isInteger(m.slotGen) || m.slotGen < 1 || m.slotGen > 0x7fffffff) bad(`${who}: slot generation ${m.slotGen}`);
    region(m.slot, SLOT_HEADER_BYTES + ctx.slotPayload, `${who}'s call slot`);
    if (m.events.capacity !== EV_RING_BYTES) bad(`${who}: event ring of ${m.events.capacity} bytes (this runtime's are ${EV_RING_BYTES})`);
    region(m.events.offset, ringRegionBytes(m.events.capacity), `${who}'s event ring`);
    region(m.eventSignal, SIG_BYTES, `${who}'s event signal`);
    if (m.backlog.length > EVENT_BACKLOG_MAX || m.backlog.some((e) => e.rec.length > EV_RECORD_MAX)) bad(`${who}: event backlog of ${m.backlog.length} records, or one longer than ${EV_RECORD_MAX} bytes`);
    const handles = new Set<number>();
    for (const c of m.conns) {
      const conn = `${who}'s handle ${c.handle}`;
      if (!Number.isInteger(c.handle) || c.handle < 1 || c.handle >= HT_ENTRIES || handles.has(c.handle)) bad(`${conn}: out of range or twice`);
      handles.add(c.handle);
      if (!ctx.hostDevice(c.deviceId)) bad(`${conn}: device ${c.deviceId} is not linked to this bus in the host thread`);
      if (!Number.isInteger(c.version) || c.version < 0 || c.version > 0xffffffff) bad(`${conn}: interface version ${c.version}`);
      if (!Number.isInteger(c.resets) || c.resets < 0) bad(`${conn}: resets ${c.resets}`);
      c.regions.forEach((r, i) => {
        const rn = `${conn}'s region ${i}`;
        if (r.id !== i) bad(`${rn}: id ${r.id}`);
        if (!Number.isInteger(r.queue) || r.queue < 0 || r.queue > 0xffffffff) bad(`${rn}: queue ${r.queue}`);
        if (!Number.isInteger(r.bytes) || r.bytes <= 0) bad(`${rn}: ${r.bytes} bytes`);
        if (r.kind === SHM_BUFFER) {
          if (r.dataSignal !== 0 || r.spaceSignal !== 0) bad(`${rn}: a buffer with signals`);
          region(r.offset, r.bytes, rn);
        } else if (r.kind === SHM_RING_TO_DEVICE || r.kind === SHM_RING_TO_GUEST) {
          if ((r.bytes & (r.bytes - 1)) !== 0 || r.bytes < RING_MIN_CAPACITY || r.bytes > RING_MAX_CAPACITY) bad(`${rn}: ring capacity ${r.bytes} is not a power of two from ${RING_MIN_CAPACITY} to ${RING_MAX_CAPACITY}`);
          region(r.offset, ringRegionBytes(r.bytes), rn);
          region(r.dataSignal, SIG_BYTES, `${rn}'s data signal`);
          region(r.spaceSignal, SIG_BYTES, `${rn}'s space signal`);
        } else {
          bad(`${rn}: kind ${r.kind}`);
        }
      });
    }
  }
  for (const offset of ctx.placed.keys()) if (!used.has(offset)) bad(`the image places a region at ${offset} that no table names`);
}

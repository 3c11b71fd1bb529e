/**
 * One bus endpoint's side of a save and restore (src/snapshot): the tables it carries
 * for the saved guests (endpoint-tables.ts), what of its bus memory they need
 * (src/snapshot/bus-image.ts), and adopting saved tables into a restored endpoint, so
 * that each saved guest finds its call slot, event ring and connections where it left
 * them and takes them back without opening anything again (src/guest/resume.ts).
 */
import { SHM_BUFFER, SHM_RING_TO_DEVICE, SHM_RING_TO_GUEST } from '../../assembly/layout/callslot.js';
import { VbusError, vbusError } from '../errors.js';
import type { BusMemory } from '../core/bus-memory.js';
import { ringLiveSpans, type Span } from '../core/ring-span.js';
import type { DecodeTables } from './decode-tables.js';
import { HostConnection, type EndpointDevice, type EndpointMember } from './endpoint-member.js';
import { checkTables, type ImagePlan, type SavedConnection, type SavedEndpoint } from './endpoint-tables.js';
import { wakeConnRings } from './conn-reset.js';
import { checkRings } from './conn-fault.js';
import type { MemberRegistry } from './member-registry.js';
import type { ShmRegion } from './types.js';

/** What these functions use of their endpoint (BusEndpoint hands it over). */
export interface SavedTablesHost {
  readonly memory: BusMemory;
  readonly busName: string;
  readonly slotPayload: number;
  readonly registry: MemberRegistry;
  readonly tables: DecodeTables;
  device(id: number): EndpointDevice | undefined;
  /** Starts the host-thread watcher of one of a connection's rings. */
  watch(conn: HostConnection, region: ShmRegion, signal: number): void;
  removeMember(memberId: number): void;
  /** Looks for a fault on a connection now (its rings against the host's record); marks and reports it. */
  checkConn(conn: HostConnection): void;
}

/**
 * The tables a save carries for the members `carry` names (the guest workers saved with
 * the bus), at a safe point (no call in flight). Left out, so that the resumed guest
 * opens that device again: a connection to a device in a backend worker (its rings are
 * the backend's), one closed by an unplug, and one that needs a reset (checked now: a
 * guest that scribbled on its rings cannot make its bus unsaveable, nor carry the damage).
 */
export function saveTables(ep: SavedTablesHost, carry: (memberId: number) => boolean): SavedEndpoint {
  const members = [...ep.registry.all()].filter((m) => carry(m.memberId)).map((m) => {
    const conns: SavedConnection[] = [];
    for (const c of m.handles) {
      if (!c || !c.open || c.device.placement) continue;
      ep.checkConn(c);
      if (c.fault) continue;
      conns.push({
        handle: c.handle, deviceId: c.deviceId, version: c.version, resets: c.resets,
        regions: c.shms.map((r) => ({ ...r })), model: c.device.model.saveConnection?.(c) ?? null,
      });
    }
    return {
      id: m.memberId, bit: m.bit, slot: m.slot, slotGen: m.slotGen, events: { offset: m.eventRing.offset, capacity: m.eventRing.capacity },
      eventSignal: m.eventSignal, backlog: m.backlog.map((e) => ({ type: e.type, rec: e.rec.slice() })), conns,
    };
  });
  return { slotPayload: ep.slotPayload, members };
}

/**
 * What of the bus memory a save carries for tables `t`: every region they name, and of
 * each the spans that mean something at a safe point. Of a call slot and a signal
 * nothing (a restore writes them afresh: no call is in flight, no waiter survives); of a
 * ring its header and live records; of a buffer its model calls idle nothing; of any
 * other buffer all of it.
 */
export function imagePlan(ep: SavedTablesHost, t: SavedEndpoint): ImagePlan {
  const mem = ep.memory;
  const plan: ImagePlan = [];
  const whole = (offset: number): Span => ({ offset, bytes: mem.allocator!.sizeOf(offset)! });
  const nothing = (offset: number): void => { plan.push({ region: whole(offset), spans: [] }); };
  for (const m of t.members) {
    nothing(m.slot);
    nothing(m.eventSignal);
    plan.push({ region: whole(m.events.offset), spans: ringLiveSpans(mem, m.events) });
    const live = ep.registry.get(m.id)!;
    for (const c of m.conns) {
      const conn = live.handles[c.handle]!;
      for (const r of c.regions) {
        if (r.kind === SHM_BUFFER) {
          plan.push({ region: whole(r.offset), spans: conn.device.model.idleRegion?.(conn, r) === true ? [] : [whole(r.offset)] });
          continue;
        }
        plan.push({ region: whole(r.offset), spans: ringLiveSpans(mem, { offset: r.offset, capacity: r.bytes }) });
        nothing(r.dataSignal);
        nothing(r.spaceSignal);
      }
    }
  }
  return plan.sort((a, b) => a.region.offset - b.region.offset);
}

/**
 * Restores saved tables after the bus image put their regions back (`placed`: offset ->
 * bytes) and the devices were linked: each member waits for its guest (addMember hands
 * it the same slot and event ring), each connection is made again under its handle and
 * its model sees open(), resumeConnection() and shm() for every region, whose rings keep
 * what they held. Checked first (checkTables); a model that refuses undoes it all (its
 * error).
 */
export function adoptTables(ep: SavedTablesHost, t: SavedEndpoint, placed: ReadonlyMap<number, number>, what: string): void {
  checkTables(t, {
    placed, slotPayload: ep.slotPayload,
    hostDevice: (id) => { const d = ep.device(id); return d !== undefined && d.placement === undefined; },
  }, what);
  const made: number[] = [];
  try {
    for (const s of t.members) {
      const m = ep.registry.adopt(s);
      made.push(s.id);
      for (const c of s.conns) adoptConnection(ep, m, c, what);
    }
  } catch (e) {
    for (const id of made) ep.removeMember(id);
    throw e;
  }
}

function adoptConnection(ep: SavedTablesHost, m: EndpointMember, c: SavedConnection, what: string): void {
  const dev = ep.device(c.deviceId)!;
  const conn = new HostConnection(ep.memory, ep.busName, m, c.handle, dev, c.version);
  conn.resets = c.resets;
  const refused = (hook: string, e: unknown): never => {
    const why = e instanceof Error ? e.message : String(e);
    throw vbusError(e instanceof VbusError ? e.code : 'EIO', `${what}: device ${dev.id} refused member ${m.memberId}'s saved connection (${hook}): ${why}`, { deviceId: dev.id, cause: e });
  };
  try { dev.model.open?.(conn); } catch (e) { refused('open', e); }
  m.handles[c.handle] = conn;
  dev.conns.add(conn);
  ep.tables.setHandle(m.hTab, c.handle, dev.id, dev.gen);
  try { if (c.model !== null) dev.model.resumeConnection?.(conn, c.model); } catch (e) { refused('resume', e); }
  for (const r of c.regions) {
    // Formatted afresh: the waiters they knew are gone (no guest is attached yet, so no ordering to keep).
    if (r.kind !== SHM_BUFFER) { ep.memory.core.sig_init(r.dataSignal); ep.memory.core.sig_init(r.spaceSignal); }
    conn.shms.push(r);
    // A ring the guest wrote garbage over after the save's check (the image carries what it
    // wrote) is not handed to the model, which would refuse it: the check below marks the
    // connection NEEDS_RESET instead, and the guest's reset formats it from the host's record.
    if (r.kind !== SHM_BUFFER && checkRings(ep.memory, [r])) continue;
    try { dev.model.shm?.(conn, r); } catch (e) { refused('shm', e); }
    if (r.kind === SHM_RING_TO_DEVICE) ep.watch(conn, r, r.dataSignal);
    else if (r.kind === SHM_RING_TO_GUEST) ep.watch(conn, r, r.spaceSignal);
  }
  ep.tables.setShmCount(m.hTab, c.handle, conn.shms.length);
  wakeConnRings(ep.memory, conn.shms); // both ends look at their rings once: a wake-up is never lost across the restore
  ep.checkConn(conn); // a ring left out above: NEEDS_RESET, and the guest hears DEVFAULT
}

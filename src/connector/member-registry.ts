/**
 * The members of one bus, as its endpoint keeps them: which member has which pending
 * bit, call slot, event ring and signal; placing those regions when a member joins and
 * returning them when it leaves; finding the slots that hold requests, in a fair order;
 * and retrying events that did not fit a member's ring.
 */
import { SLOT_HEADER_BYTES, SLOT_OFF_STATE, SLOT_IDLE } from '../../assembly/layout/callslot.js';
import { formatSlot, reserveSlotGeneration, restoreSlot, retireSlot } from './slot-region.js';
import type { SavedMemberTables } from './endpoint-tables.js';
import { BUSCTL_OFF_PENDING, BUSCTL_WORDS, BUSCTL_MAX_MEMBERS } from '../../assembly/layout/busctl.js';
import { EV_RING_BYTES } from '../../assembly/layout/event.js';
import { vbusError } from '../errors.js';
import type { BusMemory } from '../core/bus-memory.js';
import { createRing, destroyRing, formatRing, RingProducer, type RingDescriptor } from '../core/ring.js';
import { createSignal, destroySignal } from '../core/signal.js';
import type { DecodeTables } from './decode-tables.js';
import { EndpointMember, type EndpointDevice } from './endpoint-member.js';

export class MemberRegistry {
  readonly members = new Map<number, EndpointMember>();
  private readonly byBit: (EndpointMember | undefined)[] = new Array(BUSCTL_MAX_MEMBERS);
  /** Where the next drain starts (rotates, so no member is always served last). */
  private start = 0;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly mem: BusMemory,
    private readonly busName: string,
    private readonly slotPayload: number,
    private readonly tables: DecodeTables,
    private readonly busctl: number,
    private readonly devices: () => Iterable<EndpointDevice>,
  ) {}

  get(memberId: number): EndpointMember | undefined { return this.members.get(memberId); }

  /** Places a member's call slot, event ring, event signal and handle table. */
  add(memberId: number): EndpointMember {
    if (this.members.has(memberId)) throw vbusError('EEXIST', `member ${memberId} already joined bus ${this.busName}`, { memberId });
    let bit = -1;
    for (let i = 0; i < BUSCTL_MAX_MEMBERS; i++) if (!this.byBit[i]) { bit = i; break; }
    if (bit < 0) throw vbusError('ENOSPC', `bus ${this.busName} already has ${BUSCTL_MAX_MEMBERS} members`, { memberId });
    const mem = this.mem;
    const placed: Array<() => void> = [];
    try {
      const slot = mem.allocRegion(SLOT_HEADER_BYTES + this.slotPayload, 'call slot');
      placed.push(() => mem.freeRegion(slot));
      const events = createRing(mem, EV_RING_BYTES);
      placed.push(() => destroyRing(mem, events));
      const eventSignal = createSignal(mem);
      placed.push(() => destroySignal(mem, eventSignal));
      const hTab = this.tables.allocHandleTable();
      placed.push(() => this.tables.freeTable(hTab));
      return this.enlist(memberId, bit, slot, formatSlot(mem, slot), hTab, events, eventSignal);
    } catch (e) {
      for (const undo of placed.reverse()) undo();
      throw e;
    }
  }

  /**
   * A restored member (src/snapshot): its slot, event ring and signal are where the
   * saved tables say, already placed by the bus image and checked (checkTables); only
   * the host-private handle table is new. The slot gets its identity back from the
   * host's record and is IDLE; the event ring keeps the records the guest had not read
   * (a ring a guest scribbled on is formatted again and followed by a resync); the
   * signal is formatted afresh (the waiters it knew are gone).
   */
  adopt(s: SavedMemberTables): EndpointMember {
    if (this.members.has(s.id)) throw vbusError('EEXIST', `member ${s.id} already joined bus ${this.busName}`, { memberId: s.id });
    if (this.byBit[s.bit]) throw vbusError('EEXIST', `pending bit ${s.bit} of bus ${this.busName} is taken`, { bit: s.bit });
    const mem = this.mem;
    const hTab = this.tables.allocHandleTable();
    restoreSlot(mem, s.slot, s.slotGen);
    reserveSlotGeneration(s.slotGen);
    Atomics.store(mem.i32, (s.slot + SLOT_OFF_STATE) >> 2, SLOT_IDLE); // nothing is in flight at a safe point; its guest attaches after this
    mem.core.sig_init(s.eventSignal);
    let scribbled = false;
    try { new RingProducer(mem, s.events); } catch { formatRing(mem, s.events); scribbled = true; }
    const m = this.enlist(s.id, s.bit, s.slot, s.slotGen, hTab, s.events, s.eventSignal);
    m.adopted = true;
    for (const e of s.backlog) m.backlog.push(e);
    if (scribbled) m.reattachEvents(mem);
    return m;
  }

  /** Makes the member over its placed regions and registers it under its id and pending bit (add and adopt). */
  private enlist(id: number, bit: number, slot: number, slotGen: number, hTab: number, events: RingDescriptor, eventSignal: number): EndpointMember {
    const mem = this.mem;
    const payloadView = mem.u8.subarray(slot + SLOT_HEADER_BYTES, slot + SLOT_HEADER_BYTES + this.slotPayload);
    const m = new EndpointMember(id, bit, slot, hTab, events, eventSignal, payloadView, mem,
      () => [...this.devices()].sort((a, b) => a.id - b.id), () => this.scheduleFlush());
    m.slotGen = slotGen;
    this.members.set(id, m);
    this.byBit[bit] = m;
    return m;
  }

  /** Returns a member's regions (its connections are closed by the caller first). */
  remove(m: EndpointMember): void {
    m.live = false;
    this.members.delete(m.memberId);
    this.byBit[m.bit] = undefined;
    // Wake anything parked on the slot (a sibling thread of a dead guest) before freeing.
    retireSlot(this.mem, m.slot);
    this.mem.freeRegion(m.slot);
    destroyRing(this.mem, m.eventRing);
    destroySignal(this.mem, m.eventSignal);
    this.tables.freeTable(m.hTab);
  }

  /** Whether any pending bit is set (the doorbell loop's re-check). */
  anyPending(): boolean {
    const u32 = this.mem.u32;
    const base = (this.busctl + BUSCTL_OFF_PENDING) >> 2;
    for (let i = 0; i < BUSCTL_WORDS; i++) if (Atomics.load(u32, base + i) !== 0) return true; // after ENABLED = 1 (seq-cst pair with the guest's or + raise)
    return false;
  }

  /**
   * Takes every pending bit at once and calls `serve` for each member named, starting
   * one word further on each round so the same members are not always served first.
   */
  forPending(serve: (m: EndpointMember) => void): void {
    const i32 = this.mem.i32;
    const base = (this.busctl + BUSCTL_OFF_PENDING) >> 2;
    const first = this.start;
    this.start = (this.start + 1) % BUSCTL_WORDS;
    for (let k = 0; k < BUSCTL_WORDS; k++) {
      const w = (first + k) % BUSCTL_WORDS;
      if (Atomics.load(i32, base + w) === 0) continue; // nothing posted here: no read-modify-write, which would take the line from the guests
      let bits = Atomics.exchange(i32, base + w, 0) >>> 0; // take the requests posted so far (pairs with the guest's Atomics.or after REQUEST)
      while (bits !== 0) {
        const b = 31 - Math.clz32(bits);
        bits &= ~(1 << b);
        const m = this.byBit[(w << 5) + b];
        if (m) serve(m);
      }
    }
  }

  /** Every member, for a sweep that does not trust the pending bits. */
  all(): Iterable<EndpointMember> { return this.members.values(); }

  /** Flushes event backlogs that fit now. */
  flushEvents(): void {
    for (const m of this.members.values()) if (m.backlog.length) m.flush();
  }

  /**
   * Retries queued events every few milliseconds while any member has a backlog: a guest
   * drains its event ring without signalling the host, so the host polls until it fits.
   */
  private scheduleFlush(): void {
    if (this.flushTimer !== null) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      let left = false;
      for (const m of this.members.values()) if (m.backlog.length && !m.flush()) left = true;
      if (left) this.scheduleFlush();
    }, 2);
  }

  /** Stops the event retry timer. */
  stopFlushing(): void {
    if (this.flushTimer !== null) { clearTimeout(this.flushTimer); this.flushTimer = null; }
  }
}

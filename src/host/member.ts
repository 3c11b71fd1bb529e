/**
 * Members: the clients of a bus (the original's pids; here, guest workers). A member
 * belongs to exactly one bus for its whole life; a member's children inherit its bus.
 *
 * Decisions:
 * - A member is created by joining (`join`) and ends by leaving (`leave`); to move to
 *   another bus, leave and join again. So "on two buses" cannot happen: joining with
 *   an id that is already a member fails with EBUSY if it is on another bus.
 * - Ids are host-unique positive integers, like pids: the caller may choose one
 *   (EEXIST if taken) or the host hands out the next free one.
 * - Leaving takes the member's descendants with it (deepest first, each with its own
 *   `member-leave`): their access came through it, and leaving none behind means no
 *   anonymous member keeps a bus from being destroyed.
 */
import type { Bus } from './bus.js';
import type { VbusHost } from './host.js';

export class Member {
  /** Host-unique id (like a pid). */
  readonly id: number;
  /** The member that spawned this one, or null. */
  readonly parent: Member | null;
  private readonly kids = new Set<Member>();
  private home: Bus | null;

  /** @internal Use {@link VbusHost.join}. */
  constructor(readonly host: VbusHost, id: number, bus: Bus, parent: Member | null) {
    this.id = id;
    this.home = bus;
    this.parent = parent;
  }

  /** The bus this member is on; null after it left. */
  get bus(): Bus | null { return this.home; }
  /** False after it left. */
  get isAlive(): boolean { return this.home !== null; }
  /** Live children, in join order. */
  get children(): Member[] { return [...this.kids]; }

  /** Leaves the bus (see {@link VbusHost.leave}). */
  release(): void { this.host.leave(this); }

  /** @internal */
  _addChild(m: Member): void { this.kids.add(m); }
  /** @internal */
  _removeChild(m: Member): void { this.kids.delete(m); }
  /** @internal */
  _kill(): void { this.home = null; }
}

/**
 * Buses: isolation containers (the original's vbus instances). A bus has a host-unique
 * name, its own bus memory, the devices linked to it (each under a per-bus id) and its
 * members.
 *
 * Decisions:
 * - **Device ids** are handed out in increasing order and never reused while the bus
 *   lives (0, 1, 2, ...; unlinking id 1 does not make 1 free again). A guest that
 *   still holds a stale id after a device-remove therefore reaches nothing, rather
 *   than a different device that happened to get the same number.
 * - **Bus memory** is created with the bus and never grows (growing a shared memory
 *   invalidates every thread's views). By default it is one 64 KiB page; pass
 *   `memoryBytes` to {@link VbusHost.createBus} (see {@link VbusHost.memoryBytesFor}) to
 *   reserve room for devices. Linking a device whose class needs `busBytes` reserves
 *   that region; when it does not fit, `link` fails with ENOSPC and nothing changes.
 * - The tables that map ids to devices, and devices to regions, are host-private JS
 *   state, never stored in the bus memory a guest can write.
 */
import type { BusMemory } from '../core/bus-memory.js';
import type { Device } from './device.js';
import { Emitter } from './emitter.js';
import type { BusRegion, Link } from './link.js';
import type { Member } from './member.js';
import type { VbusHost } from './host.js';
import type { BusResetReport } from '../connector/bus-endpoint.js';

/** Events a bus emits (after the change is recorded). */
export type BusEvents = {
  /** A device was linked as `id` (the guest side turns this into probe()). */
  'device-add': (id: number, device: Device) => void;
  /** Device `id` was unlinked (the guest side turns this into remove()). */
  'device-remove': (id: number, device: Device) => void;
  /** A member joined. */
  'member-join': (member: Member) => void;
  /** A member left. */
  'member-leave': (member: Member) => void;
};

export class Bus {
  /** Host-unique name (`/config/vbus/instances/NAME`). */
  readonly name: string;
  /** The bus's shared memory; the only memory its members are handed. */
  readonly memory: BusMemory;
  /** Events: `device-add`, `device-remove`, `member-join`, `member-leave`. */
  readonly events = new Emitter<BusEvents>();
  private readonly byId = new Map<number, Link>();
  private readonly memberSet = new Set<Member>();
  private nextId = 0;
  private alive = true;

  /** @internal Use {@link VbusHost.createBus}. */
  constructor(readonly host: VbusHost, name: string, memory: BusMemory) {
    this.name = name;
    this.memory = memory;
  }

  /** How the memory reaches guests: 'shared' or 'message' (see CreateBusOptions.transport). */
  get transport(): 'shared' | 'message' { return this.memory.transport; }

  /** False once destroyed. */
  get isAlive(): boolean { return this.alive; }

  /** The device linked as `id`, or undefined. */
  deviceById(id: number): Device | undefined { return this.byId.get(id)?.device; }

  /** The link record for `id` (device, interface index, reserved region), or undefined. */
  linkById(id: number): Link | undefined { return this.byId.get(id); }

  /** The region reserved for device `id` in this bus's memory, or null/undefined. */
  deviceRegion(id: number): BusRegion | null | undefined { return this.byId.get(id)?.region; }

  /** Linked devices in id order. */
  devices(): Array<{ id: number; device: Device }> {
    return [...this.byId.values()].sort((a, b) => a.id - b.id).map((l) => ({ id: l.id, device: l.device }));
  }

  /** Number of linked devices. */
  get deviceCount(): number { return this.byId.size; }

  /** Members in join order. */
  members(): Member[] { return [...this.memberSet]; }

  /** Number of members. */
  get memberCount(): number { return this.memberSet.size; }

  /**
   * Resets the bus's connector regions without destroying it: header, control region,
   * doorbell, every member's call slot (calls in flight end ECONNRESET), event ring and
   * signal, from the host's own record of them; members re-sync their device lists, and
   * connections the host finds faulted are reset (their guests hear DEVRESET). Returns
   * what it did. ENOENT once the bus was destroyed. Admin: `1` to `/sys/vbus/instances/BUS/reset`.
   */
  reset(): BusResetReport { return this.host.connector.resetBus(this); }

  /** Destroys the bus (see {@link VbusHost.destroyBus}): EBUSY while it has members or devices. */
  release(): void { this.host.destroyBus(this); }

  /** @internal A restored bus (src/snapshot) continues the saved id sequence: ids below `next` are never handed out. */
  _continueIdsFrom(next: number): void { if (next > this.nextId) this.nextId = next; }
  /** @internal The id the next link will get (not consumed). */
  _peekId(): number { return this.nextId; }
  /** @internal */
  _addLink(link: Link): void { this.byId.set(link.id, link); this.nextId = link.id + 1; }
  /** @internal Restores the id counter when a link is undone before anyone saw it. */
  _undoLink(link: Link): void { this.byId.delete(link.id); this.nextId = link.id; }
  /** @internal */
  _removeLink(id: number): void { this.byId.delete(id); }
  /** @internal */
  _addMember(m: Member): void { this.memberSet.add(m); }
  /** @internal */
  _removeMember(m: Member): void { this.memberSet.delete(m); }
  /** @internal */
  _kill(): void { this.alive = false; this.events.clear(); }
}

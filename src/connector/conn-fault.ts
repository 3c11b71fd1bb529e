/**
 * Connection faults (virtio's DEVICE_NEEDS_RESET): the reasons, their sentences, and the
 * host's check of a connection's rings. The host decides a connection is faulted from
 * what it finds (a ring header that is not the one it formatted, indices further apart
 * than the capacity it placed, a fault word set) and names the finding from this table;
 * a number a guest wrote is never turned into text. The guest names a DEVFAULT's reason
 * from the same table, and an out-of-range one reads as "unknown", without its number.
 */
import {
  CONN_FAULT_NONE, CONN_FAULT_RING_HEADER, CONN_FAULT_RING_INDEX, CONN_FAULT_RING_RECORD, CONN_FAULT_RING_CURSOR,
  CONN_FAULT_RING_MARKED, CONN_FAULT_DEVICE, CONN_FAULT_NO_QUEUE,
} from '../../assembly/layout/event.js';
import { SHM_BUFFER } from '../../assembly/layout/callslot.js';
import { RING_MAGIC, RING_VERSION, RING_OFF_MAGIC, RING_OFF_VERSION, RING_OFF_CAPACITY, RING_OFF_FAULT, RING_OFF_HEAD, RING_OFF_TAIL } from '../../assembly/layout/ring.js';
import { FaultReason } from '../core/status.js';
import type { BusMemory } from '../core/bus-memory.js';
import type { ShmRegion } from './types.js';

const REASON_TEXT: readonly string[] = [
  /* NONE */ 'none',
  /* RING_HEADER */ "a ring's magic, version or capacity word was overwritten",
  /* RING_INDEX */ "a ring's indices are inconsistent (further apart than its capacity, or unaligned)",
  /* RING_RECORD */ 'a ring record runs past the published data or the ring end',
  /* RING_CURSOR */ "a ring's private cursor is inconsistent with its published index",
  /* RING_MARKED */ "a ring's fault word was set",
  /* DEVICE */ 'the device stopped the connection after finding one of its rings corrupt',
];

/** The sentence for a reason; anything outside the table is "unknown fault" (its number is not shown). */
export function connFaultText(reason: number): string {
  return Number.isInteger(reason) && reason >= 0 && reason < REASON_TEXT.length ? REASON_TEXT[reason]! : 'unknown fault';
}

/** Short names of the reasons, for the admin view and events. */
const REASON_NAME: readonly string[] = ['none', 'ring-header', 'ring-index', 'ring-record', 'ring-cursor', 'ring-marked', 'device'];

export function connFaultName(reason: number): string {
  return Number.isInteger(reason) && reason >= 0 && reason < REASON_NAME.length ? REASON_NAME[reason]! : 'unknown';
}

/** A connection's fault as the host records it (host memory only). */
export interface ConnFault {
  reason: number;
  /** Queue number of the ring found corrupt, or CONN_FAULT_NO_QUEUE. */
  queue: number;
  /** performance.now() when the host found it. */
  at: number;
}

/** Maps a ring FAULT word's value to a connection reason (unknown values: RING_MARKED). */
function fromRingWord(word: number): number {
  if (word === FaultReason.INDEX) return CONN_FAULT_RING_INDEX;
  if (word === FaultReason.RECORD) return CONN_FAULT_RING_RECORD;
  if (word === FaultReason.CURSOR) return CONN_FAULT_RING_CURSOR;
  if (word === FaultReason.HEADER) return CONN_FAULT_RING_HEADER;
  return CONN_FAULT_RING_MARKED;
}

/**
 * Checks each ring of a connection against the host's own record of it. Returns the
 * first finding, or null. Read-only, a handful of loads per ring: safe to run while the
 * device and the guest use the rings (a snapshot; each word is loaded once).
 */
export function checkRings(mem: BusMemory, shms: readonly ShmRegion[]): ConnFault | null {
  const u32 = mem.u32;
  for (const r of shms) {
    if (r.kind === SHM_BUFFER) continue;
    const o = r.offset;
    if (Atomics.load(u32, (o + RING_OFF_MAGIC) >> 2) !== RING_MAGIC || u32[(o + RING_OFF_VERSION) >> 2] !== RING_VERSION
      || u32[(o + RING_OFF_CAPACITY) >> 2] !== r.bytes) {
      return { reason: CONN_FAULT_RING_HEADER, queue: r.queue, at: performance.now() };
    }
    const word = Atomics.load(u32, (o + RING_OFF_FAULT) >> 2);
    if (word !== 0) return { reason: fromRingWord(word), queue: r.queue, at: performance.now() };
    if (!indicesConsistent(u32, o, r.bytes)) return { reason: CONN_FAULT_RING_INDEX, queue: r.queue, at: performance.now() };
  }
  return null;
}

/**
 * TAIL - HEAD within the capacity and 8-aligned, on a snapshot taken while HEAD stood
 * still: HEAD is loaded before and after TAIL (seq-cst loads, so the TAIL load lies
 * between them); equal loads mean HEAD had that value when TAIL was read (it cannot wrap
 * 2^32 bytes between two loads). A ring whose HEAD keeps moving is making progress, not
 * faulted: after a few unstable snapshots it counts as consistent.
 */
function indicesConsistent(u32: Uint32Array, o: number, cap: number): boolean {
  for (let i = 0; i < 4; i++) {
    const h1 = Atomics.load(u32, (o + RING_OFF_HEAD) >> 2);
    const t = Atomics.load(u32, (o + RING_OFF_TAIL) >> 2);
    const h2 = Atomics.load(u32, (o + RING_OFF_HEAD) >> 2);
    if (h1 !== h2) continue;
    const used = (t - h1) >>> 0;
    return used <= cap && used % 8 === 0;
  }
  return true;
}

/** A fault the model reported with no ring named (its own ends are sticky; memory may look clean again). */
export function deviceFault(): ConnFault {
  return { reason: CONN_FAULT_DEVICE, queue: CONN_FAULT_NO_QUEUE, at: performance.now() };
}

export { CONN_FAULT_NONE, CONN_FAULT_NO_QUEUE };

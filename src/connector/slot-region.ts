/**
 * Call slot regions: formatting one (with a generation) and retiring one. A member's
 * own slot and a backend's direct slots are made and ended the same way.
 */
import {
  SLOT_MAGIC, SLOT_VERSION, SLOT_OFF_MAGIC, SLOT_OFF_VERSION, SLOT_OFF_STATE, SLOT_OFF_GEN,
  SLOT_HEADER_BYTES, SLOT_DONE,
} from '../../assembly/layout/callslot.js';
import type { BusMemory } from '../core/bus-memory.js';

/** Generations of call slots: host-wide, never reused, so a stale slot never matches a new one. */
let nextSlotGen = 1;
function slotGeneration(): number {
  const g = nextSlotGen;
  nextSlotGen = (nextSlotGen % 0x7fffffff) + 1; // never 0 (0 marks a retired slot)
  return g;
}

/** A restored slot keeps generation `g` (src/connector/endpoint-tables.ts): later slots get later ones. */
export function reserveSlotGeneration(g: number): void {
  if (g >= nextSlotGen) nextSlotGen = (g % 0x7fffffff) + 1;
}

/** Formats a call slot region: header zeroed, version and generation, then the magic. Returns the generation. */
export function formatSlot(mem: BusMemory, slot: number): number {
  const gen = slotGeneration();
  mem.u8.fill(0, slot, slot + SLOT_HEADER_BYTES);
  mem.u32[(slot + SLOT_OFF_VERSION) >> 2] = SLOT_VERSION;
  mem.u32[(slot + SLOT_OFF_GEN) >> 2] = gen;
  Atomics.store(mem.u32, (slot + SLOT_OFF_MAGIC) >> 2, SLOT_MAGIC); // fields before the magic
  return gen;
}

/**
 * Ends a call slot: magic and generation cleared, then STATE = `final` (DONE for a
 * member's slot: a guest parked on it sees DONE without its reply; DEAD for a direct
 * slot: every later call answers ENODEV), and a guest parked on it woken.
 */
export function retireSlot(mem: BusMemory, slot: number, final: number = SLOT_DONE): void {
  mem.u32[(slot + SLOT_OFF_MAGIC) >> 2] = 0;
  mem.u32[(slot + SLOT_OFF_GEN) >> 2] = 0;
  const idx = (slot + SLOT_OFF_STATE) >> 2;
  Atomics.store(mem.i32, idx, final); // after the magic: a guest that checks either sees the end
  Atomics.notify(mem.i32, idx);
}



/**
 * Bus reset: rewrites a live slot's identity with the generation the host gave it (a
 * guest that attached keeps its slot; one that overwrote the header cannot move it).
 * The request and reply words are left to the caller. Version and generation are plain
 * stores before the magic's Atomics.store, as in formatSlot.
 */
export function restoreSlot(mem: BusMemory, slot: number, gen: number): void {
  mem.u32[(slot + SLOT_OFF_VERSION) >> 2] = SLOT_VERSION;
  mem.u32[(slot + SLOT_OFF_GEN) >> 2] = gen;
  Atomics.store(mem.u32, (slot + SLOT_OFF_MAGIC) >> 2, SLOT_MAGIC);
}

/**
 * Canaries: known byte patterns placed around a region, checked after every phase of a
 * test, so a write (or a padded word copy) one byte past a region's end is caught.
 */
import { createRing, ringRegionBytes, type RingDescriptor } from '../core/ring.js';
import type { BusMemory } from '../core/bus-memory.js';

/** Bytes of canary placed on each side of a guarded region (one region-aligned line). */
export const CANARY_BYTES = 64;

/** The canary byte at position i of a guard with `salt`: never 0, so zero-fills show. */
function canaryByte(salt: number, i: number): number {
  return ((i * 73 + salt * 151 + 0x5a) & 0xff) | 1;
}

export function fillCanary(u8: Uint8Array, at: number, len: number, salt: number): void {
  for (let i = 0; i < len; i++) u8[at + i] = canaryByte(salt, i);
}

/** -1 when `u8[at, at + len)` still holds the canary, else the first changed offset. */
export function checkCanary(u8: Uint8Array, at: number, len: number, salt: number): number {
  return checkCanaryRange(u8, at, at, at + len, salt);
}

/**
 * Checks part of a canary laid by `fillCanary(u8, base, ..., salt)`: -1 when
 * `u8[from, to)` is unchanged, else the first changed offset counted from `from`.
 * Used after an operation wrote a prefix of a canary-filled area.
 */
export function checkCanaryRange(u8: Uint8Array, base: number, from: number, to: number, salt: number): number {
  for (let i = from; i < to; i++) if (u8[i] !== canaryByte(salt, i - base)) return i - from;
  return -1;
}

export interface GuardedRing {
  desc: RingDescriptor;
  before: number;
  after: number;
  /** Throws when a canary next to the ring changed. */
  check(what?: string): void;
}

/**
 * Places a canary line, a ring, and another canary line next to each other in `bus`
 * (the allocator is first-fit, so on a fresh or compact bus they are adjacent; this is
 * checked).
 */
export function guardedRing(bus: BusMemory, capacity: number, salt = 1): GuardedRing {
  const before = bus.allocRegion(CANARY_BYTES, 'canary');
  const desc = createRing(bus, capacity);
  const after = bus.allocRegion(CANARY_BYTES, 'canary');
  if (before + CANARY_BYTES !== desc.offset || desc.offset + ringRegionBytes(capacity) !== after) {
    throw new Error(`guards not adjacent: ${before} / ${desc.offset} / ${after}`);
  }
  fillCanary(bus.u8, before, CANARY_BYTES, salt);
  fillCanary(bus.u8, after, CANARY_BYTES, salt + 1);
  return {
    desc,
    before,
    after,
    check(what = '') {
      const b = checkCanary(bus.u8, before, CANARY_BYTES, salt);
      if (b >= 0) throw new Error(`canary before ring ${desc.offset} changed at byte ${b} ${what}`);
      const a = checkCanary(bus.u8, after, CANARY_BYTES, salt + 1);
      if (a >= 0) throw new Error(`canary after ring ${desc.offset} changed at byte ${a} ${what}`);
    },
  };
}

export interface GuardedBuffer {
  offset: number;
  bytes: number;
  check(what?: string): void;
}

/** A buffer of `bytes` bytes in bus memory with canaries on both sides. */
export function guardedBuffer(bus: BusMemory, bytes: number, salt = 7): GuardedBuffer {
  const padded = Math.ceil(bytes / CANARY_BYTES) * CANARY_BYTES;
  const region = bus.allocRegion(padded + 2 * CANARY_BYTES, 'guarded buffer');
  const offset = region + CANARY_BYTES;
  const tailLen = padded - bytes + CANARY_BYTES; // everything after the buffer is canary
  fillCanary(bus.u8, region, CANARY_BYTES, salt);
  fillCanary(bus.u8, offset + bytes, tailLen, salt + 1);
  return {
    offset,
    bytes,
    check(what = '') {
      const b = checkCanary(bus.u8, region, CANARY_BYTES, salt);
      if (b >= 0) throw new Error(`canary before buffer ${offset} changed at byte ${b} ${what}`);
      const a = checkCanary(bus.u8, offset + bytes, tailLen, salt + 1);
      if (a >= 0) throw new Error(`canary after buffer ${offset}+${bytes} changed at byte ${a} ${what}`);
    },
  };
}

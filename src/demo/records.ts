/**
 * The demo's records: a seeded size for each sequence number and a payload derived from
 * it (the test kit's record generator), so the receiver can check every byte without
 * the sender keeping a copy.
 *
 *   bytes 0..3: sequence number (u32, little-endian); bytes 4..: payload of (seed, seq)
 */
import { checkPayload, checksumBytes, fillPayload } from '../testing/sequence.js';
import { recordHash } from '../testing/prng.js';

/** Tag of an ordinary record, and of the one that ends the stream. */
export const TAG_DATA = 0;
export const TAG_END = 1;

/** Payload bytes of record `seq`: 16..1024, a multiple of 4, from a seeded hash. */
export function recordSize(seq: number, seed: number): number {
  return 16 + ((recordHash(seed, seq) % 253) << 2);
}

/** Writes record `seq`'s payload at byte offset `at` (4-aligned) of `u32`'s buffer. */
export function writeRecord(u32: Uint32Array, u8: Uint8Array, at: number, seed: number, seq: number, size: number): void {
  u32[at >> 2] = seq;
  fillPayload(seed, seq, u8, at + 4, size - 4);
}

/** Checks record `seq` at `at`; returns a checksum contribution, or -1 if a byte is wrong. */
export function checkRecord(u32: Uint32Array, u8: Uint8Array, at: number, seed: number, seq: number, size: number): number {
  if (u32[at >> 2] !== (seq >>> 0)) return -1;
  if (checkPayload(seed, seq, u8, at + 4, size - 4) >= 0) return -1;
  return checksumBytes(seq >>> 0, u8, at, size);
}

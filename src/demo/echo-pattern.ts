/**
 * The records the echo demo sends: each one is a pure function of (seed, sequence
 * number), so the receiver can regenerate and compare it byte for byte without keeping
 * a copy. Environment-neutral; the bytes come from the test kit's record generator.
 *
 * Record `seq`: length in [4, maxLen]; bytes 0..3 are `seq` (u32, little-endian), the
 * rest are the payload stream of (seed, seq).
 */
import { checkPayload, fillPayload } from '../testing/sequence.js';
import { recordHash } from '../testing/prng.js';

/** Salt of the length draw, apart from the payload's. */
const LENGTH_SALT = 0x5b;

/** Payload length of record `seq`: between 4 and `maxLen` bytes. */
export function patternLength(seed: number, seq: number, maxLen: number): number {
  return 4 + (recordHash(seed, seq, LENGTH_SALT) % (maxLen - 3));
}

/** Writes record `seq`'s `len` bytes at `u8[at]`. */
export function fillPattern(u8: Uint8Array, at: number, seed: number, seq: number, len: number): void {
  u8[at] = seq & 0xff;
  u8[at + 1] = (seq >>> 8) & 0xff;
  u8[at + 2] = (seq >>> 16) & 0xff;
  u8[at + 3] = (seq >>> 24) & 0xff;
  fillPayload(seed, seq, u8, at + 4, len - 4);
}

/**
 * Index of the first byte of `u8[at .. at+len)` that differs from record `seq`, or -1
 * if all `len` bytes match.
 */
export function firstMismatch(u8: Uint8Array, at: number, seed: number, seq: number, len: number): number {
  if (u8[at] !== (seq & 0xff)) return 0;
  if (u8[at + 1] !== ((seq >>> 8) & 0xff)) return 1;
  if (u8[at + 2] !== ((seq >>> 16) & 0xff)) return 2;
  if (u8[at + 3] !== ((seq >>> 24) & 0xff)) return 3;
  const bad = checkPayload(seed, seq, u8, at + 4, len - 4);
  return bad < 0 ? -1 : bad + 4;
}

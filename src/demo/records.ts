/**
 * The demo's records: a seeded size for each sequence number and a payload derived from
 * it, so the receiver can check every byte without the sender keeping a copy.
 *
 *   word 0: sequence number; words 1..: mix(seq, i)     (sizes are multiples of 4)
 */

/** Tag of an ordinary record, and of the one that ends the stream. */
export const TAG_DATA = 0;
export const TAG_END = 1;

/** Cheap integer hash (a round of xorshift-multiply). */
function mix(seq: number, i: number): number {
  let x = (Math.imul(seq, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca77)) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x2c1b3c6d);
  return (x ^ (x >>> 12)) >>> 0;
}

/** Payload bytes of record `seq`: 16..1024, a multiple of 4, from a seeded hash. */
export function recordSize(seq: number, seed: number): number {
  return 16 + ((mix(seq, seed) % 253) << 2);
}

/** Writes record `seq`'s payload at byte offset `at` (4-aligned) of `u32`'s buffer. */
export function writeRecord(u32: Uint32Array, at: number, seq: number, size: number): void {
  const w = at >> 2;
  u32[w] = seq;
  for (let i = 1, n = size >> 2; i < n; i++) u32[w + i] = mix(seq, i);
}

/** Checks record `seq` at `at`; returns a checksum contribution, or -1 if a byte is wrong. */
export function checkRecord(u32: Uint32Array, at: number, seq: number, size: number): number {
  const w = at >> 2;
  if (u32[w] !== (seq >>> 0)) return -1;
  let sum = seq >>> 0;
  for (let i = 1, n = size >> 2; i < n; i++) {
    const v = u32[w + i]!;
    if (v !== mix(seq, i)) return -1;
    sum = (Math.imul(sum, 31) + v) >>> 0;
  }
  return sum;
}

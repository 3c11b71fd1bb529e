/**
 * The records the echo demo sends: each one is a pure function of (seed, sequence
 * number), so the receiver can regenerate and compare it byte for byte without keeping
 * a copy. Environment-neutral.
 *
 * Record `seq`: length in [4, maxLen] drawn from the PRNG; bytes 0..3 are `seq` (u32,
 * little-endian), the rest are PRNG output.
 */

/** mulberry32 step: a small, fast 32-bit PRNG; good enough for test patterns. */
function mix(state: number): number {
  let t = (state + 0x6d2b79f5) | 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}

function recordState(seed: number, seq: number): number {
  return (seed ^ Math.imul(seq + 1, 0x9e3779b9)) | 0;
}

/** Payload length of record `seq`: between 4 and `maxLen` bytes. */
export function patternLength(seed: number, seq: number, maxLen: number): number {
  return 4 + (mix(recordState(seed, seq) ^ 0x5bd1e995) % (maxLen - 3));
}

/** Writes record `seq`'s `len` bytes at `u8[at]`. */
export function fillPattern(u8: Uint8Array, at: number, seed: number, seq: number, len: number): void {
  u8[at] = seq & 0xff;
  u8[at + 1] = (seq >>> 8) & 0xff;
  u8[at + 2] = (seq >>> 16) & 0xff;
  u8[at + 3] = (seq >>> 24) & 0xff;
  let state = recordState(seed, seq);
  for (let i = 4; i < len; i += 4) {
    state = mix(state);
    u8[at + i] = state & 0xff;
    if (i + 1 < len) u8[at + i + 1] = (state >>> 8) & 0xff;
    if (i + 2 < len) u8[at + i + 2] = (state >>> 16) & 0xff;
    if (i + 3 < len) u8[at + i + 3] = (state >>> 24) & 0xff;
  }
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
  let state = recordState(seed, seq);
  for (let i = 4; i < len; i += 4) {
    state = mix(state);
    if (u8[at + i] !== (state & 0xff)) return i;
    if (i + 1 < len && u8[at + i + 1] !== ((state >>> 8) & 0xff)) return i + 1;
    if (i + 2 < len && u8[at + i + 2] !== ((state >>> 16) & 0xff)) return i + 2;
    if (i + 3 < len && u8[at + i + 3] !== ((state >>> 24) & 0xff)) return i + 3;
  }
  return -1;
}

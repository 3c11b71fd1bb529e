/**
 * A record sequence derived from (seed, index), and its verifier. Every record is a
 * pure function of (seed, index): its length, its tag and every payload byte. A producer
 * and a consumer on different threads agree on the whole stream without sharing anything
 * but the seed, and the verifier says exactly which record and which byte went wrong.
 */
import { mix32, recordHash } from './prng.js';

/**
 * Record length for (seed, index): mostly small records, some medium, a few up to
 * `maxLen`, so a stream exercises the short-copy path, the memory.copy path and wraps.
 */
export function recordLen(seed: number, index: number, maxLen: number): number {
  const h = recordHash(seed, index, 1);
  const pick = h & 0xff;
  const r = h >>> 8; // 24 random bits
  let len: number;
  if (pick < 128) len = r % 65; // 0..64
  else if (pick < 224) len = r % 513; // 0..512
  else len = r % (maxLen + 1);
  return Math.min(len, maxLen);
}

/** Record tag for (seed, index): 0..0x7fffffff, the range the ring accepts. */
export function recordTag(seed: number, index: number): number {
  return recordHash(seed, index, 2) & 0x7fffffff;
}

/** Start of one record's payload byte stream (xorshift32 must not start at 0). */
function payloadState(seed: number, index: number): number {
  return recordHash(seed, index, 3) | 1;
}

/** Writes record `index`'s payload (`len` bytes) at `u8[at]`. */
export function fillPayload(seed: number, index: number, u8: Uint8Array, at: number, len: number): void {
  let s = payloadState(seed, index);
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    u8[at + i] = s;
    u8[at + i + 1] = s >>> 8;
    u8[at + i + 2] = s >>> 16;
    u8[at + i + 3] = s >>> 24;
  }
  if (i < len) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    for (let v = s; i < len; i++, v >>>= 8) u8[at + i] = v;
  }
}

/** -1 when `u8[at, at + len)` equals record `index`'s payload, else the first wrong offset. */
export function checkPayload(seed: number, index: number, u8: Uint8Array, at: number, len: number): number {
  let s = payloadState(seed, index);
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    if (u8[at + i] !== (s & 0xff)) return i;
    if (u8[at + i + 1] !== ((s >>> 8) & 0xff)) return i + 1;
    if (u8[at + i + 2] !== ((s >>> 16) & 0xff)) return i + 2;
    if (u8[at + i + 3] !== (s >>> 24)) return i + 3;
  }
  if (i < len) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    for (let v = s; i < len; i++, v >>>= 8) if (u8[at + i] !== (v & 0xff)) return i;
  }
  return -1;
}

/** Order-sensitive checksum of bytes, continued from `h` (FNV-1a steps). */
export function checksumBytes(h: number, u8: Uint8Array, at: number, len: number): number {
  for (let i = 0; i < len; i++) h = Math.imul(h ^ u8[at + i]!, 0x01000193);
  return h >>> 0;
}

/** Folds one record (length, tag, payload) into a running stream checksum. */
export function checksumRecord(h: number, u8: Uint8Array, at: number, len: number, tag: number): number {
  h = mix32(h ^ len);
  h = mix32(h ^ tag);
  return checksumBytes(h, u8, at, len);
}

/**
 * The producing half of a sequence: `next()` advances to the next record and returns
 * its length; `tag` and `index` describe it; `fill(u8, at)` writes its payload.
 */
export class Sequence {
  readonly seed: number;
  index = -1;
  len = 0;
  tag = 0;

  constructor(seed: number, readonly maxLen: number) {
    this.seed = seed >>> 0;
  }

  next(): number {
    this.index++;
    this.len = recordLen(this.seed, this.index, this.maxLen);
    this.tag = recordTag(this.seed, this.index);
    return this.len;
  }

  fill(u8: Uint8Array, at: number): void {
    fillPayload(this.seed, this.index, u8, at, this.len);
  }

  /** A fresh copy of the current record's payload. */
  bytes(): Uint8Array {
    const b = new Uint8Array(this.len);
    this.fill(b, 0);
    return b;
  }
}

/**
 * The consuming half: `check(u8, at, len, tag)` compares one received record with the
 * next one expected, returns null or a message naming the record and byte, and keeps a
 * count and a checksum of everything it accepted.
 */
export class Verifier {
  readonly seed: number;
  count = 0;
  checksum = 0;

  constructor(seed: number, readonly maxLen: number) {
    this.seed = seed >>> 0;
  }

  check(u8: Uint8Array, at: number, len: number, tag: number): string | null {
    const i = this.count;
    const wantLen = recordLen(this.seed, i, this.maxLen);
    if (len !== wantLen) return `record ${i}: length ${len}, expected ${wantLen}`;
    const wantTag = recordTag(this.seed, i);
    if (tag !== wantTag) return `record ${i}: tag ${tag}, expected ${wantTag}`;
    const bad = checkPayload(this.seed, i, u8, at, len);
    if (bad >= 0) return `record ${i} (length ${len}): byte ${bad} differs`;
    this.checksum = checksumRecord(this.checksum, u8, at, len, tag);
    this.count++;
    return null;
  }
}

/** Checksum of the first `count` records of a sequence, computed without a ring. */
export function expectedChecksum(seed: number, maxLen: number, count: number): number {
  const seq = new Sequence(seed, maxLen);
  const buf = new Uint8Array(maxLen);
  let h = 0;
  for (let i = 0; i < count; i++) {
    const len = seq.next();
    seq.fill(buf, 0);
    h = checksumRecord(h, buf, 0, len, seq.tag);
  }
  return h;
}

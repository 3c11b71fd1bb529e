/**
 * The one seeded generator of the project: tests, benchmarks, the demo and device
 * authors' own tests draw from it, so a failure is reproduced by its seed alone.
 * Environment-neutral (no Node or DOM APIs).
 */

/** Mixes a 32-bit value into a well-spread 32-bit hash (a murmur3-style finaliser). */
export function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Hash of (seed, index, salt): the root of everything derived for one record. */
export function recordHash(seed: number, index: number, salt = 0): number {
  // index may exceed 2^32 in long runs; fold the high part in too.
  const hi = Math.floor(index / 0x100000000);
  return mix32(mix32(seed ^ 0x9e3779b9) ^ mix32((index >>> 0) + salt) ^ Math.imul(hi, 0x27d4eb2f));
}

/**
 * sfc32 (a small fast counting generator): four 32-bit words of state, good statistical
 * quality, only adds, shifts and xors.
 */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;

  constructor(seed: number) {
    this.a = mix32(seed ^ 0x243f6a88);
    this.b = mix32(seed ^ 0x85a308d3);
    this.c = mix32(seed ^ 0x13198a2e);
    for (let i = 0; i < 12; i++) this.next(); // let the seed spread through the state
  }

  /** Next value, uniform in [0, 2^32). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform integer in [0, n), n <= 2^32. */
  below(n: number): number {
    return Math.floor((this.next() / 0x100000000) * n);
  }

  /** Uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() / 0x100000000 < p;
  }

  /** Fills `u8[at, at + len)` with random bytes. */
  fill(u8: Uint8Array, at: number, len: number): void {
    let i = 0;
    for (; i + 4 <= len; i += 4) {
      const v = this.next();
      u8[at + i] = v;
      u8[at + i + 1] = v >>> 8;
      u8[at + i + 2] = v >>> 16;
      u8[at + i + 3] = v >>> 24;
    }
    if (i < len) {
      let v = this.next();
      for (; i < len; i++, v >>>= 8) u8[at + i] = v;
    }
  }
}

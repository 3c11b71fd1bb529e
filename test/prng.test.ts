// The test fixtures themselves: a verifier that cannot fail would make every
// byte-exact claim in the other tests empty, so check that it catches each kind of
// damage, and that the sequence is deterministic and covers the whole length range.
import { describe, it, expect } from 'vitest';
import { Prng, Sequence, Verifier, expectedChecksum, recordLen } from './fixtures/prng.mjs';

describe('seeded sequence and verifier', () => {
  it('is a pure function of the seed', () => {
    const a = new Prng(123);
    const b = new Prng(123);
    const c = new Prng(124);
    const xs = Array.from({ length: 64 }, () => a.next());
    expect(Array.from({ length: 64 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 64 }, () => c.next())).not.toEqual(xs);
    const s1 = new Sequence(9, 300);
    const s2 = new Sequence(9, 300);
    for (let i = 0; i < 100; i++) {
      s1.next(); s2.next();
      expect(s2.bytes()).toEqual(s1.bytes());
      expect(s2.tag).toBe(s1.tag);
    }
  });

  it('covers lengths from 0 to maxLen', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 20000; i++) seen.add(recordLen(5, i, 100));
    for (let len = 0; len <= 100; len++) expect(seen.has(len)).toBe(true);
  });

  it('accepts the sequence and catches a flipped byte, a wrong length, a wrong tag, a skipped record', () => {
    const seed = 77;
    const ok = new Verifier(seed, 500);
    const seq = new Sequence(seed, 500);
    const records: { bytes: Uint8Array; tag: number }[] = [];
    for (let i = 0; i < 50; i++) { seq.next(); records.push({ bytes: seq.bytes(), tag: seq.tag }); }
    for (const r of records) expect(ok.check(r.bytes, 0, r.bytes.length, r.tag)).toBeNull();
    expect(ok.count).toBe(50);
    expect(ok.checksum).toBe(expectedChecksum(seed, 500, 50));

    const long = records.findIndex((r) => r.bytes.length > 3);
    const damaged = (fn: (v: Verifier) => string | null) => {
      const v = new Verifier(seed, 500);
      for (let i = 0; i < long; i++) v.check(records[i]!.bytes, 0, records[i]!.bytes.length, records[i]!.tag);
      return fn(v);
    };
    const r = records[long]!;
    const flipped = r.bytes.slice();
    flipped[flipped.length - 1] ^= 0x10;
    expect(damaged((v) => v.check(flipped, 0, flipped.length, r.tag))).toMatch(`byte ${flipped.length - 1} differs`);
    expect(damaged((v) => v.check(r.bytes, 0, r.bytes.length - 1, r.tag))).toMatch('length');
    expect(damaged((v) => v.check(r.bytes, 0, r.bytes.length, r.tag ^ 1))).toMatch('tag');
    const next = records[long + 1]!;
    expect(damaged((v) => v.check(next.bytes, 0, next.bytes.length, next.tag))).not.toBeNull();
  });
});

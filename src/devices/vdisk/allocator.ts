/**
 * First-fit allocator of block-sized units over the driver's shared data buffer.
 * Requests complete in any order, so freed ranges come back out of order; free extents
 * are kept sorted by start and merged with their neighbours. With a queue depth of at
 * most a few hundred the list stays short, so a linear scan is the fast choice.
 */
export class ExtentAllocator {
  private starts: number[];
  private lens: number[];
  /** Units free now. */
  free: number;

  constructor(readonly units: number) {
    this.starts = units > 0 ? [0] : [];
    this.lens = units > 0 ? [units] : [];
    this.free = units;
  }

  /** Takes `n` contiguous units; returns the first unit, or -1 if no extent is large enough. */
  alloc(n: number): number {
    const s = this.starts, l = this.lens;
    for (let i = 0; i < s.length; i++) {
      const len = l[i]!;
      if (len < n) continue;
      const at = s[i]!;
      if (len === n) { s.splice(i, 1); l.splice(i, 1); } else { s[i] = at + n; l[i] = len - n; }
      this.free -= n;
      return at;
    }
    return -1;
  }

  /** Returns `n` units at `at` (must have come from alloc). */
  release(at: number, n: number): void {
    const s = this.starts, l = this.lens;
    let i = 0;
    while (i < s.length && s[i]! < at) i++; // i: first extent after the freed one
    const joinPrev = i > 0 && s[i - 1]! + l[i - 1]! === at;
    const joinNext = i < s.length && at + n === s[i]!;
    if (joinPrev && joinNext) { l[i - 1] += n + l[i]!; s.splice(i, 1); l.splice(i, 1); }
    else if (joinPrev) l[i - 1] += n;
    else if (joinNext) { s[i] = at; l[i] += n; }
    else { s.splice(i, 0, at); l.splice(i, 0, n); }
    this.free += n;
  }
}

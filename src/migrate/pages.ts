/**
 * Finding what changed in a byte image since it was last sent, without dirty bits: the
 * source keeps a shadow (a copy of what the target has) and compares the live image
 * with it page by page, 32-bit word by word. The target starts from zeroes, so the
 * shadow starts zeroed too and the first round sends only the pages that are not.
 *
 * A changed page is copied into the shadow first and the shadow's bytes are sent, so
 * the target always holds exactly the shadow. A write that lands in the live image while
 * a page is being copied makes it differ from the shadow again, and a later round (at
 * the latest the last one, taken with the device quiet) sends it.
 */

/** Bytes per page: small enough that one changed disk block costs little to resend. */
export const PAGE_BYTES = 4096;

/** A run of changed pages, as the shadow now holds them. */
export interface DirtyRun { offset: number; bytes: Uint8Array }

export class ImageShadow {
  readonly shadow: Uint8Array;
  private readonly shadow32: Int32Array;
  private live!: Uint8Array;
  private live32: Int32Array | null = null;

  constructor(live: Uint8Array) {
    this.shadow = new Uint8Array(live.length);
    this.shadow32 = new Int32Array(this.shadow.buffer, 0, live.length >> 2);
    this.compareWith(live);
  }

  /**
   * Compares with `bytes` from now on (as long as the image): the device's live view
   * while it runs, the copy its saved state holds for the last round, so that the target
   * ends with exactly what was saved.
   */
  compareWith(bytes: Uint8Array): void {
    if (bytes.length !== this.shadow.length) throw new RangeError(`image of ${bytes.length} bytes compared with a shadow of ${this.shadow.length}`);
    this.live = bytes;
    // Word compare where the image is word-aligned (a SharedArrayBuffer view at 0 is).
    this.live32 = bytes.byteOffset % 4 === 0 && bytes.length % 4 === 0 ? new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2) : null;
  }

  get pages(): number { return Math.ceil(this.live.length / PAGE_BYTES); }

  /**
   * Compares pages [first, end) with the shadow; copies the changed ones into it and
   * returns them as runs of at most `maxRun` bytes.
   */
  scan(first: number, end: number, maxRun: number): DirtyRun[] {
    const runs: DirtyRun[] = [];
    let runStart = -1;
    let runEnd = -1;
    const flush = (): void => {
      if (runStart < 0) return;
      runs.push({ offset: runStart, bytes: this.shadow.subarray(runStart, runEnd) });
      runStart = -1;
    };
    for (let p = first; p < end && p < this.pages; p++) {
      const lo = p * PAGE_BYTES;
      const hi = Math.min(lo + PAGE_BYTES, this.live.length);
      if (!this.differs(lo, hi)) { flush(); continue; }
      this.shadow.set(this.live.subarray(lo, hi), lo);
      if (runStart >= 0 && runEnd === lo && hi - runStart <= maxRun) runEnd = hi;
      else { flush(); runStart = lo; runEnd = hi; }
    }
    flush();
    return runs;
  }

  private differs(lo: number, hi: number): boolean {
    if (this.live32) {
      const a = this.live32;
      const b = this.shadow32;
      // Plain reads of shared memory: a torn or stale word only makes a page look
      // changed (or not yet), and the round taken with the device quiet settles it.
      for (let i = lo >> 2, n = hi >> 2; i < n; i++) if (a[i] !== b[i]) return true;
      return false;
    }
    const a = this.live;
    const b = this.shadow;
    for (let i = lo; i < hi; i++) if (a[i] !== b[i]) return true;
    return false;
  }
}

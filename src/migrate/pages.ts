/**
 * Finding what changed in a byte image since it was last sent, without dirty bits: the
 * source keeps a shadow (a copy of what the target has) and compares the live image
 * with it, 64 KiB blocks first and the pages of a block that differs, each compare a
 * native memcmp (Buffer.equals: about four times a word loop's speed, which matters in
 * the last round, taken while the buses stand still). The target starts from zeroes, so
 * the shadow starts zeroed too and the first round sends only the pages that are not.
 *
 * A changed page is copied into the shadow first and the shadow's bytes are sent, so
 * the target always holds exactly the shadow. A write that lands in the live image while
 * a page is being copied makes it differ from the shadow again, and a later round (at
 * the latest the last one, taken with the device quiet) sends it.
 */

import { Buffer } from 'node:buffer';

/** Bytes per page: small enough that one changed disk block costs little to resend. */
export const PAGE_BYTES = 4096;
/** Pages compared as one block first (64 KiB): most blocks are unchanged after the first round. */
const BLOCK_PAGES = 16;

/** A run of changed pages, as the shadow now holds them. */
export interface DirtyRun { offset: number; bytes: Uint8Array }

export class ImageShadow {
  readonly shadow: Uint8Array;
  private readonly shadowBuf: Buffer;
  private readonly liveBuf: Buffer;

  /** `live`: the device's live view of the image (the last round reads it with the device quiet). */
  constructor(private readonly live: Uint8Array) {
    this.shadow = new Uint8Array(live.length);
    this.shadowBuf = Buffer.from(this.shadow.buffer, 0, live.length);
    this.liveBuf = Buffer.from(live.buffer, live.byteOffset, live.length);
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
    const last = Math.min(end, this.pages);
    for (let p = first; p < last; p++) {
      // A whole unchanged block is skipped with one compare.
      if (p % BLOCK_PAGES === 0 && p + BLOCK_PAGES <= last && !this.differs(p * PAGE_BYTES, (p + BLOCK_PAGES) * PAGE_BYTES)) {
        flush();
        p += BLOCK_PAGES - 1;
        continue;
      }
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
    // Plain reads of shared memory: a torn or stale byte only makes a page look changed
    // (or not yet), and the round taken with the device quiet settles it.
    return !this.liveBuf.subarray(lo, hi).equals(this.shadowBuf.subarray(lo, hi));
  }
}

/**
 * Host-private allocator for regions of one bus memory. First fit over a sorted free
 * list, coalescing on free. It lives in host memory (a plain JS object), never in the
 * bus memory, so a guest cannot change which bytes the host believes are its regions.
 */
import { vbusError } from '../errors.js';

interface Span { offset: number; bytes: number }

export class RegionAllocator {
  private free: Span[];
  private used = new Map<number, number>();
  private top: number;

  /** Manages `[start, end)`; every region is `align`-aligned and a multiple of `align` long. */
  constructor(readonly start: number, readonly end: number, readonly align: number) {
    if (start % align !== 0 || end < start) {
      throw vbusError('EINVAL', `allocator range [${start}, ${end}) must be ${align}-aligned and non-empty`, { start, end, align });
    }
    this.free = end > start ? [{ offset: start, bytes: end - start }] : [];
    this.top = start;
  }

  /** Allocates `bytes` (rounded up to the alignment). Throws ENOSPC with the sizes involved. */
  alloc(bytes: number, what = 'region'): number {
    if (!Number.isInteger(bytes) || bytes <= 0) {
      throw vbusError('EINVAL', `${what} size ${bytes} must be a positive integer`, { bytes });
    }
    const size = Math.ceil(bytes / this.align) * this.align;
    for (let i = 0; i < this.free.length; i++) {
      const s = this.free[i]!;
      if (s.bytes >= size) {
        const offset = s.offset;
        if (s.bytes === size) this.free.splice(i, 1);
        else { s.offset += size; s.bytes -= size; }
        this.used.set(offset, size);
        if (offset + size > this.top) this.top = offset + size;
        return offset;
      }
    }
    throw vbusError('ENOSPC', `no room for a ${what} of ${size} bytes in bus memory (${this.freeBytes()} bytes free, largest hole ${this.largestFree()}); create the bus with more memory`, { bytes: size, free: this.freeBytes() });
  }

  /** Returns a region. Throws EINVAL for an offset that is not an allocated region. */
  release(offset: number): void {
    const size = this.used.get(offset);
    if (size === undefined) throw vbusError('EINVAL', `offset ${offset} is not an allocated region`, { offset });
    this.used.delete(offset);
    let i = 0;
    while (i < this.free.length && this.free[i]!.offset < offset) i++;
    this.free.splice(i, 0, { offset, bytes: size });
    // coalesce with the neighbours
    if (i + 1 < this.free.length && offset + size === this.free[i + 1]!.offset) {
      this.free[i]!.bytes += this.free[i + 1]!.bytes;
      this.free.splice(i + 1, 1);
    }
    if (i > 0 && this.free[i - 1]!.offset + this.free[i - 1]!.bytes === offset) {
      this.free[i - 1]!.bytes += this.free[i]!.bytes;
      this.free.splice(i, 1);
    }
  }

  /**
   * Allocates exactly `[offset, offset + bytes)` (bytes rounded up to the alignment), which
   * must lie in one free span: a restored bus puts its saved regions back where they were
   * (src/snapshot/bus-image.ts). Throws EINVAL for a misaligned or taken span.
   */
  claim(offset: number, bytes: number, what = 'region'): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(bytes) || bytes <= 0 || offset % this.align !== 0) {
      throw vbusError('EINVAL', `${what} at ${offset} (${bytes} bytes) is not an aligned region`, { offset, bytes });
    }
    const size = Math.ceil(bytes / this.align) * this.align;
    const i = this.free.findIndex((s) => s.offset <= offset && offset + size <= s.offset + s.bytes);
    if (i < 0) throw vbusError('EINVAL', `${what} at ${offset} (${size} bytes) overlaps a region already placed or lies outside [${this.start}, ${this.end})`, { offset, bytes: size });
    const s = this.free[i]!;
    const rest: Span[] = [];
    if (s.offset < offset) rest.push({ offset: s.offset, bytes: offset - s.offset });
    if (offset + size < s.offset + s.bytes) rest.push({ offset: offset + size, bytes: s.offset + s.bytes - offset - size });
    this.free.splice(i, 1, ...rest);
    this.used.set(offset, size);
    if (offset + size > this.top) this.top = offset + size;
  }

  /** Size of the allocated region at `offset`, or undefined. */
  sizeOf(offset: number): number | undefined { return this.used.get(offset); }

  /** True if `[offset, offset+bytes)` lies inside one allocated region. */
  contains(offset: number, bytes: number): boolean {
    for (const [o, s] of this.used) if (offset >= o && offset + bytes <= o + s) return true;
    return false;
  }

  /** End of the highest region ever allocated (the message transport keeps memory below it in step). */
  highWater(): number { return this.top; }

  freeBytes(): number { return this.free.reduce((a, s) => a + s.bytes, 0); }
  largestFree(): number { return this.free.reduce((a, s) => Math.max(a, s.bytes), 0); }
  usedBytes(): number { let n = 0; for (const s of this.used.values()) n += s; return n; }
  regionCount(): number { return this.used.size; }
}

/**
 * The first `n` bytes of a fixed buffer, as a view. Calls pass the request (or copy the
 * reply) through such a view on every call, with the same length call after call; a
 * new subarray each time is an allocation on the path the other side waits for. So the
 * view of the last length asked for is kept. The bytes are the buffer's either way: a
 * view kept by a model past its call sees the next call's bytes, as a fresh one would.
 */
export class PrefixView {
  private view: Uint8Array;
  private len = 0;

  constructor(readonly whole: Uint8Array) {
    this.view = whole.subarray(0, 0);
  }

  /** The first `n` bytes (0 <= n <= whole.length; a longer `n` is cut to the buffer, as subarray does). */
  of(n: number): Uint8Array {
    if (n !== this.len) { this.view = this.whole.subarray(0, n); this.len = n; }
    return this.view;
  }
}

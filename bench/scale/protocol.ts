/**
 * The scale bench's control words (one SharedArrayBuffer every worker of a run shares)
 * and the result a worker posts after each window.
 *
 * A window: every worker waits (Atomics.wait) for GEN to change, then works until STOP
 * equals that GEN, so all N workers count over the same interval; READY counts workers
 * parked and ready for the next window.
 */
export const CTL_GEN = 0;
export const CTL_STOP = 1;
export const CTL_READY = 2;
export const CTL_BYTES = 64;

/** Latency samples a worker keeps per window (every SAMPLE_EVERY-th call is timed). */
export const MAX_SAMPLES = 4096;
export const SAMPLE_EVERY = 8;

export interface WindowResult {
  /** Operations completed in the window (calls, frames received, I/Os). */
  count: number;
  /** Operations that failed. */
  errors: number;
  /** Sampled per-operation latencies (µs); empty where not measured. */
  samples: Float64Array;
}

/** Worker side: waits for the next window, returns its generation. */
export function waitWindow(ctl: Int32Array, seen: number): number {
  Atomics.add(ctl, CTL_READY, 1);
  Atomics.notify(ctl, CTL_READY);
  let g: number;
  while ((g = Atomics.load(ctl, CTL_GEN)) === seen) Atomics.wait(ctl, CTL_GEN, seen, 1000); // pairs with the main thread's store + notify
  return g;
}

/** Worker side: whether window `gen` is over. */
export function windowOver(ctl: Int32Array, gen: number): boolean {
  return Atomics.load(ctl, CTL_STOP) === gen;
}

/** Keeps every SAMPLE_EVERY-th latency, the newest MAX_SAMPLES of them. */
export class Sampler {
  private readonly buf = new Float64Array(MAX_SAMPLES);
  private n = 0;
  add(us: number): void { this.buf[this.n++ % MAX_SAMPLES] = us; }
  take(): Float64Array { const out = this.buf.slice(0, Math.min(this.n, MAX_SAMPLES)); this.n = 0; return out; }
}

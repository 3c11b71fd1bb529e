/** Sizes, capacities and durations of the ring bench, in one place. */
import { ringRecordBytes } from '../../src/internal.js';

/** Record payload sizes of the one-way cases. */
export const ONEWAY_SIZES = [16, 64, 1500, 65536] as const;

/** Ring data bytes for a record size: 256 KiB (fits L2 beside the scratch buffers), 1 MiB for 64 KiB records. */
export function ringCapacity(size: number): number {
  return size > 4096 ? 1 << 20 : 1 << 18;
}

/** Records per batch (pushBatch, reserve/commit): at most 128, and at most 1/8 of the ring. */
export function batchSize(size: number): number {
  return Math.max(1, Math.min(128, Math.floor(ringCapacity(size) / 8 / ringRecordBytes(size))));
}

/** Window of in-flight postMessage records (so a fast producer cannot queue gigabytes). */
export const POSTMESSAGE_WINDOW = 256;

export interface Durations {
  /** Seconds one measured repeat should take (a pilot run picks the count). */
  targetSec: number;
  /** Record count in --quick mode (no pilot). */
  quickCount: number;
  /** benchmark.js maxTime per micro case, seconds. */
  microMaxTime: number;
  /** Seconds of round trips per latency repeat. */
  rttSec: number;
}

export function durations(quick: boolean): Durations {
  return quick
    ? { targetSec: 0, quickCount: 600, microMaxTime: 0.02, rttSec: 0.03 }
    : { targetSec: 0.3, quickCount: 0, microMaxTime: 0.4, rttSec: 0.3 };
}

/** Messages per ringbuf.js push in the batched variant: 32, unless 32 would not fit half its ring. */
export function ringbufBatch(size: number): number {
  return Math.max(1, Math.min(32, Math.floor((ringCapacity(size) - 1) / 2 / size)));
}

/**
 * A venet device's counters and negotiated features, in a host-private
 * SharedArrayBuffer (never in bus memory, so no guest can forge them). The class makes
 * one per device and hands it to the model in the host thread or, through the
 * structured-cloneable init, to the model in a backend worker: the admin reads the
 * same words either way.
 *
 * Layout: BigInt64 words, index = the constants below. Writers add with Atomics.add
 * (several backend workers may serve one device on several buses).
 */
import { sharedOrPrivateBuffer } from '../../platform/shared-memory.js';
export const STAT_RX_FRAMES = 0; // frames the device took from guests' TX rings and accepted
export const STAT_RX_BYTES = 1;
export const STAT_TX_FRAMES = 2; // frames the device delivered into guests' RX rings
export const STAT_TX_BYTES = 3;
export const STAT_DROPS = 4; // malformed frames, frames while the link is down, no room at a port
export const STAT_FAULTS = 5; // rings found corrupt (each counted once)
export const STAT_NEGOTIATED = 6; // feature bits of the latest negotiation (Atomics.store)
export const STAT_WORDS = 7;

/** Counter attribute names, in the order of the word indices. */
export const STAT_ATTRS: ReadonlyArray<readonly [string, number]> = [
  ['rx_frames', STAT_RX_FRAMES], ['rx_bytes', STAT_RX_BYTES],
  ['tx_frames', STAT_TX_FRAMES], ['tx_bytes', STAT_TX_BYTES],
  ['drops', STAT_DROPS], ['faults', STAT_FAULTS],
];

/** Makes the shared counter block of one device. */
export function createStatsBuffer(): SharedArrayBuffer {
  return sharedOrPrivateBuffer(STAT_WORDS * 8);
}

/**
 * The model's side: counts in plain numbers on the hot path and publishes them to the
 * shared words once per poll with {@link flush} (one atomic add per counter that moved).
 */
export class VenetStats {
  readonly words: BigInt64Array;
  rxFrames = 0;
  rxBytes = 0;
  txFrames = 0;
  txBytes = 0;
  drops = 0;
  faults = 0;

  constructor(buffer: SharedArrayBuffer) {
    this.words = new BigInt64Array(buffer);
  }

  /** Adds the local counts to the shared words and zeroes them. */
  flush(): void {
    const w = this.words;
    if (this.rxFrames) { Atomics.add(w, STAT_RX_FRAMES, BigInt(this.rxFrames)); this.rxFrames = 0; } // counters only: no ordering needed
    if (this.rxBytes) { Atomics.add(w, STAT_RX_BYTES, BigInt(this.rxBytes)); this.rxBytes = 0; } // counters only
    if (this.txFrames) { Atomics.add(w, STAT_TX_FRAMES, BigInt(this.txFrames)); this.txFrames = 0; } // counters only
    if (this.txBytes) { Atomics.add(w, STAT_TX_BYTES, BigInt(this.txBytes)); this.txBytes = 0; } // counters only
    if (this.drops) { Atomics.add(w, STAT_DROPS, BigInt(this.drops)); this.drops = 0; } // counters only
    if (this.faults) { Atomics.add(w, STAT_FAULTS, BigInt(this.faults)); this.faults = 0; } // counters only
  }

  /** Records the feature bits of the latest negotiation. */
  setNegotiated(bits: number): void {
    Atomics.store(this.words, STAT_NEGOTIATED, BigInt(bits)); // a single word the admin reads; no other data depends on it
  }
}

/** Reads one shared word (admin side). */
export function readStat(buffer: SharedArrayBuffer, index: number): bigint {
  return Atomics.load(new BigInt64Array(buffer), index); // sees every flushed add
}

// Random vdisk workloads for tests: the op list comes from a seeded PRNG, and the
// expected outcome (the disk's bytes after the run, the hash of every read) is computed
// here, in program order, independently of the guest that runs the ops.
import { Prng, fillPayload, checksumBytes } from '../fixtures/prng.mjs';

export type VdiskOp = [kind: 'r' | 'w' | 'f' | 'b', offset: number, len: number];

export interface WorkloadShape {
  capacity: number;
  blockSize: number;
  n: number;
  /** Largest request in blocks (most requests); a few are larger than one driver segment. */
  maxBlocks: number;
  /** Bytes of the occasional large request (0: none). */
  bigBytes?: number;
}

export function randomOps(seed: number, s: WorkloadShape): VdiskOp[] {
  const rng = new Prng(seed);
  const blocks = s.capacity / s.blockSize;
  const ops: VdiskOp[] = [];
  for (let i = 0; i < s.n; i++) {
    const roll = rng.below(100);
    if (roll < 4) { ops.push([roll < 3 ? 'f' : 'b', 0, 0]); continue; }
    let nb = 1 + rng.below(s.maxBlocks);
    if (s.bigBytes && rng.below(100) === 0) nb = s.bigBytes / s.blockSize;
    nb = Math.min(nb, blocks);
    const at = rng.below(blocks - nb + 1);
    ops.push([roll < 52 ? 'w' : 'r', at * s.blockSize, nb * s.blockSize]);
  }
  return ops;
}

/** Applies `ops` to `shadow` (the disk before them); returns the expected read hashes. */
export function replay(ops: VdiskOp[], seed: number, shadow: Uint8Array): Record<number, number> {
  const hashes: Record<number, number> = {};
  ops.forEach(([k, off, len], i) => {
    if (k === 'w') fillPayload(seed, i, shadow, off, len);
    else if (k === 'r') hashes[i] = checksumBytes(0x811c9dc5, shadow, off, len);
  });
  return hashes;
}

export const VDISK_GUEST_URL = new URL('../fixtures/guest-vdisk.mjs', import.meta.url);

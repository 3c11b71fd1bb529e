/**
 * venet-loopback's model: every valid frame goes back into its sender's RX ring,
 * byte for byte. When the sender's RX ring is full the frame stays in its TX ring and is
 * offered again when the guest frees space (the RX space signal polls the device), so
 * a loopback never drops for lack of room.
 *
 * This module is the backend entry too: `createModel(init)` runs in a backend worker.
 */
import { DROPPED, NO_ROOM, VenetModelBase, type VenetInit, type VenetPort } from './model-base.js';

export class VenetLoopbackModel extends VenetModelBase {
  /** Back on the pair it came from (the sender's own pair: abi.ts steering). */
  protected forward(src: VenetPort, at: number, len: number, flags: number, pair: number): number {
    const r = this.deliver(src, src.u8, at, len, flags, pair);
    if (r === DROPPED) this.stats.drops++;
    return r === NO_ROOM ? NO_ROOM : r;
  }
}

/** Factory used by the class in the host thread and by a backend worker. */
export function createModel(init: VenetInit): VenetLoopbackModel {
  return new VenetLoopbackModel(init);
}

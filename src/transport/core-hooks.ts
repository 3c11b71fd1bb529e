/**
 * The one core export the message transport must see: sig_raise. Over shared memory the
 * core notifies a parked waiter itself (atomic.notify inside wasm); over a private copy
 * that reaches nobody, so the wrapper turns every raise into a wake-up of the signal's
 * PENDING word for the peers, shipped with the data published before it. It wakes even
 * when the local core counted the raise as suppressed: the local copy of ENABLED is the
 * waiter's as last shipped, possibly stale, and a lost wake-up costs more than a spurious
 * one (the waiter re-checks its ring either way). Suppression still saves messages: all
 * raises of one turn travel in one batch.
 */
import { SIG_OFF_PENDING } from '../../assembly/layout/signal.js';
import type { CoreExports } from '../core/core-module.js';
import type { MirrorSide } from './mirror.js';

export function hookCore(core: CoreExports, side: MirrorSide): CoreExports {
  const raise = core.sig_raise;
  return {
    ...core,
    sig_raise(sig: number): number {
      const r = raise(sig);
      side.notify((sig + SIG_OFF_PENDING) >> 2);
      return r;
    },
  };
}

/**
 * Saving buses: `saveBuses(host, ['lan0', 'lan1'])` brings the buses to a safe point
 * (safe-point.ts: guests quiesce, save, devices are saved), returns the snapshot file's
 * bytes (format.ts) and stops the guests (the saved run continues where the snapshot is
 * restored). A failure before the bytes exist leaves the guests running: they are told
 * to continue.
 */
import type { Bus } from '../host/bus.js';
import type { VbusHost } from '../host/host.js';
import { encodeSnapshot } from './format.js';
import { continueGuests, planSave, reachSafePoint, type SafePointOptions } from './safe-point.js';

export interface SaveOptions extends SafePointOptions {
  /** Stop the guests once saved (default true); with false they continue. */
  stopGuests?: boolean;
}

/** Saves `buses` with their devices, members and guest states (see the module comment). */
export async function saveBuses(host: VbusHost, buses: ReadonlyArray<Bus | string>, opts: SaveOptions = {}): Promise<Uint8Array> {
  const plan = planSave(host, buses);
  const snap = await reachSafePoint(plan, opts);
  let bytes: Uint8Array;
  try {
    bytes = encodeSnapshot(snap); // EINVAL here: a guest state the file cannot hold
  } catch (e) {
    await continueGuests(plan, opts.timeoutMs);
    throw e;
  }
  if (opts.stopGuests !== false) await Promise.all(plan.guests.map((g) => g.terminate()));
  else await continueGuests(plan, opts.timeoutMs);
  return bytes;
}

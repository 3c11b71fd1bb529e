/**
 * A venet port as saved in a device state: which guest connection it was (bus, member,
 * device id), its number (a switch derives each port's MAC from it) and the features
 * it negotiated. Kept apart from state.ts so that model-base.ts (which backend workers
 * import) needs nothing from the host side.
 */
import type { DeviceConnection } from '../../connector/types.js';

export interface SavedPort {
  bus: string;
  member: number;
  device: number;
  index: number;
  negotiated: number;
  /** Queue pairs the port negotiated (absent: 1). */
  queues?: number;
}

/** Removes and returns the saved port of the guest opening `conn`, if there is one. */
export function takeRestoredPort(list: SavedPort[], conn: DeviceConnection): SavedPort | undefined {
  const i = list.findIndex((p) => p.bus === conn.busName && p.member === conn.memberId && p.device === conn.deviceId);
  if (i < 0) return undefined;
  return list.splice(i, 1)[0];
}

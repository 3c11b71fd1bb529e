/**
 * A guest connector's own state across a save (src/snapshot): the devices it knew and
 * its open connections, each with its handle, interface version, the regions DEVSHM
 * placed for it and what its driver keeps (Connection.onSave). A resumed guest's
 * `open()` of a device it had open returns the saved connection (no DEVOPEN), and its
 * driver's `shm()` of a saved region returns that region (no DEVSHM): the rings are the
 * same, in the restored bus memory, with what they held.
 *
 * It comes back from the host in the boot; the host checked the tables it kept of the
 * same connections, so here a malformed entry is only skipped (then opened anew).
 */
import type { ShmRegion } from '../connector/types.js';

export interface SavedGuestConnection {
  deviceId: number;
  type: string;
  handle: number;
  version: number;
  regions: ShmRegion[];
  /** What the driver's onSave returned, or null. */
  driver: unknown;
}

export interface SavedGuestConnector {
  devices: Array<{ id: number; type: string }>;
  conns: SavedGuestConnection[];
}

const isInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** The saved connector state in a boot, with every entry of the wrong shape left out. */
export function readSavedConnector(v: unknown): SavedGuestConnector | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  const devices = (Array.isArray(o['devices']) ? o['devices'] : []).filter((d): d is { id: number; type: string } =>
    typeof d === 'object' && d !== null && isInt((d as Record<string, unknown>)['id']) && typeof (d as Record<string, unknown>)['type'] === 'string');
  const region = (r: unknown): r is ShmRegion => typeof r === 'object' && r !== null
    && ['id', 'queue', 'kind', 'offset', 'bytes', 'dataSignal', 'spaceSignal'].every((k) => isInt((r as Record<string, unknown>)[k]));
  const conns = (Array.isArray(o['conns']) ? o['conns'] : []).filter((c): c is SavedGuestConnection => {
    if (typeof c !== 'object' || c === null) return false;
    const x = c as Record<string, unknown>;
    return isInt(x['deviceId']) && typeof x['type'] === 'string' && isInt(x['handle']) && isInt(x['version'])
      && Array.isArray(x['regions']) && (x['regions'] as unknown[]).every(region);
  });
  return { devices: devices.map((d) => ({ id: d.id, type: d.type })), conns };
}

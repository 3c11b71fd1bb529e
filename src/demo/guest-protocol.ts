/**
 * Messages between the demo's guests and the host that started them (guest.post /
 * GuestWorker.onMessage), in one place. Plain data: they cross postMessage.
 */

/** What the spawner passes as the guest's start data. */
export interface DemoGuestData {
  /** Name shown in logs and on the console. */
  name: string;
  /** Seed of the guest's PRNG (disk patterns). */
  seed: number;
  /** Ethernet frame bytes the network task sends (header included). Default 256. */
  frameBytes?: number;
  /** Frames per send batch (one commit, one kick). Default 16. */
  batch?: number;
  /** Milliseconds between stats reports. Default 250. */
  reportMs?: number;
}

/** Counters a guest reports (cumulative since it started). */
export interface DemoGuestCounters {
  framesTx: number;
  framesRx: number;
  bytesRx: number;
  /** Frames whose payload did not carry the demo's marker. */
  framesBad: number;
  diskWrites: number;
  diskReads: number;
  /** Read-backs that differed from what was written. */
  diskMismatches: number;
  rngBytes: number;
  consoleLines: number;
  /** Devices the guest has a task running for. */
  devices: number;
}

export type GuestToHost =
  | { type: 'demo:log'; guest: string; event: 'probe' | 'remove' | 'error' | 'info'; device?: number; iface?: string; text: string }
  | { type: 'demo:stats'; guest: string; counters: DemoGuestCounters };

export type HostToGuest = { type: 'demo:stop' };

/** Zeroed counters. */
export function emptyCounters(): DemoGuestCounters {
  return { framesTx: 0, framesRx: 0, bytesRx: 0, framesBad: 0, diskWrites: 0, diskReads: 0, diskMismatches: 0, rngBytes: 0, consoleLines: 0, devices: 0 };
}

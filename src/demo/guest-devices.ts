/**
 * The device drivers the demo guest uses, behind one small shape per interface, so the
 * guest program reads the same whatever driver details change.
 */
import type { GuestConnector } from '../guest/connector.js';
import { VENET_INTERFACE, openVenet, type VenetDriver } from '../devices/venet/index.js';
import { VDISK_INTERFACE, openVdisk } from '../devices/vdisk/index.js';
import { CONSOLE_INTERFACE, openConsole as openVconsole } from '../devices/vconsole/index.js';
import { ENTROPY_INTERFACE, openRng } from '../devices/vrng/index.js';

export { VENET_INTERFACE, VDISK_INTERFACE, CONSOLE_INTERFACE, ENTROPY_INTERFACE };

/** Ring bytes the demo's network driver asks for (kept small: several guests share a bus). */
const NET_RING_BYTES = 64 * 1024;
/** The disk driver's shared data buffer (default 2 MiB is more than the demo's 4 KiB requests need). */
const DISK_BUFFER_BYTES = 256 * 1024;

export function openNet(guest: GuestConnector, id: number): VenetDriver {
  return openVenet(guest, id, { txBytes: NET_RING_BYTES, rxBytes: NET_RING_BYTES });
}

export interface BlockDevice {
  /** Bytes. */
  readonly capacity: number;
  readonly blockSize: number;
  write(offset: number, data: Uint8Array): Promise<void>;
  read(offset: number, len: number): Promise<Uint8Array>;
  close(): void;
}
export function openBlock(guest: GuestConnector, id: number): BlockDevice {
  return openVdisk(guest, id, { queueDepth: 32, bufferBytes: DISK_BUFFER_BYTES });
}

export interface ConsoleDevice { write(text: string): Promise<void>; close(): void }
export function openConsole(guest: GuestConnector, id: number): ConsoleDevice { return openVconsole(guest, id); }

export interface EntropyDevice { read(n: number): Promise<Uint8Array>; close(): void }
export function openEntropy(guest: GuestConnector, id: number): EntropyDevice { return openRng(guest, id); }

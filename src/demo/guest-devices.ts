/**
 * The device drivers the demo guest uses, behind one small shape per interface. The
 * network task drives the real venet driver; disk, console and entropy drive the
 * stand-ins in ./standins/ until the real vdisk / vconsole / vrng drivers are merged —
 * swapping them is a change to this file only.
 */
import type { GuestConnector } from '../guest/connector.js';
import { VENET_INTERFACE, openVenet, type VenetDriver } from '../devices/venet/index.js';
import { BLOCK_INTERFACE, BlockStandinDriver } from './standins/block.js';
import { CONSOLE_INTERFACE, ConsoleStandinDriver } from './standins/console.js';
import { ENTROPY_INTERFACE, EntropyStandinDriver } from './standins/entropy.js';

export { VENET_INTERFACE, BLOCK_INTERFACE, CONSOLE_INTERFACE, ENTROPY_INTERFACE };

/** Ring bytes the demo's network driver asks for (kept small: several guests share a bus). */
const NET_RING_BYTES = 64 * 1024;

export function openNet(guest: GuestConnector, id: number): VenetDriver {
  return openVenet(guest, id, { txBytes: NET_RING_BYTES, rxBytes: NET_RING_BYTES });
}

export interface BlockDevice {
  readonly sectors: number;
  readonly sectorBytes: number;
  readonly maxSectors: number;
  write(lba: number, data: Uint8Array): void;
  read(lba: number, count: number): Uint8Array;
  close(): void;
}
export function openBlock(guest: GuestConnector, id: number): BlockDevice { return new BlockStandinDriver(guest, id); }

export interface ConsoleDevice { write(text: string): void; close(): void }
export function openConsole(guest: GuestConnector, id: number): ConsoleDevice { return new ConsoleStandinDriver(guest, id); }

export interface EntropyDevice { read(n: number): Uint8Array; close(): void }
export function openEntropy(guest: GuestConnector, id: number): EntropyDevice { return new EntropyStandinDriver(guest, id); }

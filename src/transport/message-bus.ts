/**
 * Setting up the message transport for one bus: the host's side when the bus is
 * created, a port and a snapshot for each guest it starts, and the guest's side when it
 * joins. See mirror.ts for how the copies are kept in step.
 */
import { WASM_PAGE } from '../../assembly/layout/bus.js';
import { vbusError } from '../errors.js';
import { BusMemory } from '../core/bus-memory.js';
import { installAtomicsShim } from './atomics-shim.js';
import { hookCore } from './core-hooks.js';
import { MirrorSide, mirrorOf, type MirrorPeer, type MirrorPort, type MirrorStats } from './mirror.js';

/** What a guest of a message-transport bus gets instead of the shared memory (postable). */
export interface MirrorBoot {
  /** This guest's end of its channel to the host. Transferred with the start data. */
  port: MessagePort;
  /** Bytes of the bus memory. */
  bytes: number;
  /** The host's copy of the first `extent` bytes when the guest was started. */
  snapshot: ArrayBuffer;
}

/**
 * Host: the side of a message-transport bus memory, made on first use (by the bus's
 * endpoint, before any guest joins). Idempotent.
 */
export function mirrorHostBus(memory: BusMemory): MirrorSide {
  const existing = mirrorOf(memory.memory.buffer);
  if (existing) return existing;
  installAtomicsShim();
  const side = new MirrorSide(memory, 'host');
  memory._wrapCore((core) => hookCore(core, side));
  return side;
}

/** The host side of a message-transport bus memory, or undefined for a shared one. */
export function hostMirror(memory: BusMemory): MirrorSide | undefined {
  return memory.transport === 'message' ? mirrorOf(memory.memory.buffer) : undefined;
}

/** Host: a channel and a snapshot for a guest about to start; `transfer` lists the port. */
export function openGuestChannel(side: MirrorSide): { boot: MirrorBoot; peer: MirrorPeer; transfer: Transferable[] } {
  side.flush(); // pending wake-ups go to the existing peers first; the snapshot is the state after them
  const mem = side.bus;
  const extent = side.extent;
  const channel = new MessageChannel();
  const snapshot = mem.u8.slice(0, extent).buffer;
  const shadow = new Int32Array(mem.byteLength >> 2);
  shadow.set(mem.i32.subarray(0, extent >> 2));
  const peer = side.addPeer(channel.port1 as unknown as MirrorPort, shadow);
  return { boot: { port: channel.port2, bytes: mem.byteLength, snapshot }, peer, transfer: [channel.port2, snapshot] };
}

/** Guest: builds this thread's copy of the bus memory from the boot and connects it to the host. */
export function attachMirroredGuest(boot: MirrorBoot, module: WebAssembly.Module): BusMemory {
  const { bytes, snapshot, port } = boot;
  if (!Number.isInteger(bytes) || bytes <= 0 || bytes % WASM_PAGE !== 0 || !(snapshot instanceof ArrayBuffer) || snapshot.byteLength > bytes || !port) {
    throw vbusError('EINVAL', 'malformed message-transport boot data (bytes, snapshot and port are required)', { bytes });
  }
  installAtomicsShim();
  const pages = bytes / WASM_PAGE;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  new Uint8Array(memory.buffer).set(new Uint8Array(snapshot));
  const bus = BusMemory.attachPrivate(memory, module);
  const side = new MirrorSide(bus, 'guest', snapshot.byteLength & ~3);
  bus._wrapCore((core) => hookCore(core, side));
  side.addPeer(port as unknown as MirrorPort, new Int32Array(memory.buffer.slice(0)));
  return bus;
}

/** Counters of a message-transport bus memory's side in this thread (null for a shared bus). */
export function messageStats(memory: BusMemory): MirrorStats | null {
  if (memory.transport !== 'message') return null;
  const side = mirrorOf(memory.memory.buffer);
  return side ? { ...side.stats } : null;
}

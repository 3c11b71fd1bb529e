/**
 * Node side of v86 guests: reads the guest image (built by scripts/build-v86-image.sh
 * into build/v86-image/), finds and compiles v86's WebAssembly module from the `v86`
 * package, and starts the v86 guest worker (src/v86/guest-node.ts) on a bus.
 *
 * `v86` is resolved when a VM is started, not when vbus loads, so a program that never
 * starts one does not need the package.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { vbusError } from '../errors.js';
import type { Bus } from '../host/bus.js';
import type { VbusHost } from '../host/host.js';
import type { GuestWorker } from '../connector/spawn-guest.js';
import { V86_DEFAULT_MEMORY, v86Cmdline, type V86GuestData, type V86Image } from '../v86/types.js';

/** build/v86-image/ of this repository (this file is dist/src/platform/node-v86.js once built). */
export const V86_IMAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'build', 'v86-image');

/** Files of an image directory, by {@link V86Image} field. */
export const V86_IMAGE_FILES: Readonly<Record<keyof V86Image, string>> = {
  bios: 'bios.bin', vgaBios: 'vgabios.bin', bzimage: 'vmlinuz', initrd: 'initrd.img',
};

/** Reads an image directory. ENOENT (saying how to build it) if a file is missing. */
export async function loadV86Image(dir = V86_IMAGE_DIR): Promise<V86Image> {
  const out = {} as Record<keyof V86Image, ArrayBuffer>;
  for (const [key, file] of Object.entries(V86_IMAGE_FILES) as Array<[keyof V86Image, string]>) {
    const p = join(dir, file);
    let b: Buffer;
    try { b = await readFile(p); } catch {
      throw vbusError('ENOENT', `v86 guest image file ${p} is missing: run scripts/build-v86-image.sh (scripts/setup.sh runs it)`, { path: p });
    }
    out[key] = b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer;
  }
  return out;
}

/** Where the `v86` package's ES module and wasm are. ENOENT if it is not installed. */
export async function v86PackageFiles(): Promise<{ lib: string; wasmPath: string }> {
  let lib: string;
  try { lib = import.meta.resolve('v86'); } catch {
    throw vbusError('ENOENT', 'the v86 package is not installed: npm install v86 (vbus lists it as an optional peer dependency)', {});
  }
  const wasmPath = join(dirname(fileURLToPath(lib)), 'v86.wasm');
  try { await stat(wasmPath); } catch {
    throw vbusError('ENOENT', `v86's WebAssembly module is missing at ${wasmPath}`, { path: wasmPath });
  }
  return { lib, wasmPath };
}

let compiled: Promise<WebAssembly.Module> | undefined;

/** Options of {@link v86GuestData} / {@link spawnV86}. */
export interface V86NodeOptions {
  /** eth0's address with prefix length, e.g. `10.0.0.2/24` (none: eth0 stays unconfigured). */
  ip?: string;
  nic?: 'ne2k' | 'virtio';
  memoryBytes?: number;
  /** Bus device id of the virtual-ethernet device for the NIC. */
  netDevice?: number;
  /** Bus device id of the virtual-console device for serial port 0. */
  consoleDevice?: number;
  /** Image directory (default: build/v86-image). */
  imageDir?: string;
  /** More kernel command-line words. */
  cmdlineExtra?: string;
}

/** The start data of a v86 guest (image read, wasm compiled once per process). */
export async function v86GuestData(opts: V86NodeOptions = {}): Promise<V86GuestData> {
  const { lib, wasmPath } = await v86PackageFiles();
  compiled ??= readFile(wasmPath).then((b) => WebAssembly.compile(b));
  const data: V86GuestData = {
    lib,
    wasm: await compiled,
    image: await loadV86Image(opts.imageDir),
    cmdline: v86Cmdline(opts.ip, opts.cmdlineExtra),
    memoryBytes: opts.memoryBytes ?? V86_DEFAULT_MEMORY,
    nic: opts.nic ?? 'ne2k',
  };
  if (opts.netDevice !== undefined) data.netDevice = opts.netDevice;
  if (opts.consoleDevice !== undefined) data.consoleDevice = opts.consoleDevice;
  return data;
}

/** The Node entry of the v86 guest worker. */
export const V86_GUEST_NODE_URL = new URL('../v86/guest-node.js', import.meta.url);

/** Starts a v86 VM as a guest of `bus`. */
export async function spawnV86(host: VbusHost, bus: Bus | string, opts: V86NodeOptions = {}): Promise<GuestWorker> {
  return host.spawnGuest(bus, V86_GUEST_NODE_URL, { data: await v86GuestData(opts), name: 'v86' });
}

/** File URL of an image directory (for servers that hand the image to a page). */
export function v86ImageUrl(dir = V86_IMAGE_DIR): URL { return pathToFileURL(dir + '/'); }

/**
 * What a v86 guest worker is started with (structured-cloneable: it crosses to the
 * worker as `guest.data`). The host side builds it (src/platform/node-v86.ts on Node, the
 * page in a browser); the worker (guest.ts) only uses what it is given, so the same
 * worker runs on both platforms.
 */

/** The guest image: a 32-bit Linux kernel, its initramfs and the BIOS (built by scripts/build-v86-image.sh). */
export interface V86Image {
  bios: ArrayBuffer;
  vgaBios: ArrayBuffer;
  bzimage: ArrayBuffer;
  initrd: ArrayBuffer;
}

/** Start data of a v86 guest worker. */
export interface V86GuestData {
  /** URL of v86's ES module (`v86/build/libv86.mjs`), imported by the worker. */
  lib: string;
  /** v86's compiled WebAssembly module (`v86/build/v86.wasm`). */
  wasm: WebAssembly.Module;
  image: V86Image;
  /** Kernel command line (see {@link v86Cmdline}). */
  cmdline: string;
  /** Emulated RAM in bytes (≥ 128 MiB: v86 places the initramfs at 64 MiB). */
  memoryBytes: number;
  /** The NIC the VM sees: ne2k (PCI RTL-8029) or virtio-net. */
  nic: 'ne2k' | 'virtio';
  /** Bus device id of the virtual-ethernet device to bridge the NIC to (none: no network). */
  netDevice?: number;
  /** Bus device id of the virtual-console device to bridge serial port 0 to (none: output dropped). */
  consoleDevice?: number;
}

/** What the worker posts to its host (through `guest.post`). */
export type V86GuestEvent =
  | { event: 'v86-started' }
  | { event: 'v86-error'; message: string }
  | { event: 'v86-stats'; framesOut: number; framesIn: number; framesDropped: number; consoleBytes: number };

/** Memory size that fits the image (v86 loads the initramfs at 64 MiB). */
export const V86_DEFAULT_MEMORY = 128 << 20;

/**
 * The kernel command line for the image's /init: serial console on ttyS0, the address
 * it gives eth0 (`vbus.ip`), and the boot options that matter in an emulator — skip the
 * crypto self-tests (tens of seconds of emulated CPU) and ISA PnP probing, trust the TSC.
 */
export function v86Cmdline(ip: string | undefined, extra = ''): string {
  const parts = ['console=ttyS0', 'quiet', 'loglevel=3', 'cryptomgr.notests', 'noisapnp', 'pnpbios=off', 'tsc=reliable', 'mitigations=off'];
  if (ip) parts.push(`vbus.ip=${ip}`);
  if (extra) parts.push(extra);
  return parts.join(' ');
}

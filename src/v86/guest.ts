/**
 * The v86 guest program: a vbus guest that runs a v86 PC, started with
 * {@link V86GuestData} as its data. Its NIC is a virtual-ethernet driver on the bus and
 * its serial port a virtual-console driver (bridge.ts), so the Linux kernel booted in
 * the emulator sees vbus devices as hardware. The same program runs in a Node worker
 * thread (entry: guest-node.ts) and a browser Web Worker (entry: web/v86-guest.js);
 * each entry installs its platform first.
 */
import type { Guest } from '../guest/join.js';
import { openVenet } from '../devices/venet/driver.js';
import { openConsole } from '../devices/vconsole/driver.js';
import { bridgeNic, bridgeSerial, type BridgeCounters, type V86Emulator } from './bridge.js';
import type { V86GuestData, V86GuestEvent } from './types.js';

/** Runs the VM described by `guest.data`; reports `v86-started`, `v86-stats` or `v86-error` to the host. */
export async function runV86Guest(guest: Guest): Promise<void> {
  const data = guest.data as V86GuestData;
  const post = (e: V86GuestEvent): void => guest.post(e);
  const counters: BridgeCounters = { framesOut: 0, framesIn: 0, framesDropped: 0, consoleBytes: 0 };
  try {
    const { V86 } = (await import(data.lib)) as { V86: new (o: Record<string, unknown>) => V86Emulator };
    const emu = new V86({
      wasm_fn: async (imports: WebAssembly.Imports) => (await WebAssembly.instantiate(data.wasm, imports)).exports,
      memory_size: data.memoryBytes,
      vga_memory_size: 2 << 20,
      bios: { buffer: data.image.bios },
      vga_bios: { buffer: data.image.vgaBios },
      bzimage: { buffer: data.image.bzimage },
      initrd: { buffer: data.image.initrd },
      cmdline: data.cmdline,
      net_device: { type: data.nic },
      autostart: true,
      disable_keyboard: true,
      disable_mouse: true,
      disable_speaker: true,
    });
    if (data.netDevice !== undefined) bridgeNic(emu, openVenet(guest, data.netDevice), counters);
    if (data.consoleDevice !== undefined) bridgeSerial(emu, openConsole(guest, data.consoleDevice), counters);
    emu.add_listener('emulator-started', (() => post({ event: 'v86-started' })) as (arg: never) => void);
    setInterval(() => post({ event: 'v86-stats', ...counters }), 1000);
  } catch (e) {
    post({ event: 'v86-error', message: String((e as Error)?.stack ?? e) });
  }
}

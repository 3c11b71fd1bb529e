/**
 * The device classes the demo offers, in one list, with the attribute values a device
 * of each class gets at creation in the demo (a memory-backed vdisk needs a capacity).
 *
 * venet-tap is not offered: it needs the OS network (Node only) and the demo runs the
 * same classes on Node and in a browser. vdisk uses memory backing on both (no
 * `src_path`), and vconsole its memory endpoint (the lab shows what guests write).
 */
import type { DeviceClassSpec } from '../host/device-class.js';
import { venetLoopbackClass, venetSwitchClass } from '../devices/venet/index.js';
import { vdiskClass } from '../devices/vdisk/index.js';
import { vconsoleClass } from '../devices/vconsole/index.js';
import { vrngClass } from '../devices/vrng/index.js';

/** A class the demo offers, with a line for the page and its demo defaults. */
export interface DemoClass {
  spec: DeviceClassSpec;
  description: string;
  defaults: Record<string, string>;
}

/** Capacity of a demo disk (memory backing). */
export const DEMO_DISK_BYTES = 8 * 1024 * 1024;

export const DEMO_CLASSES: readonly DemoClass[] = [
  { spec: venetSwitchClass, description: 'MAC-learning switch among every bus it is linked to', defaults: {} },
  { spec: venetLoopbackClass, description: 'returns every frame to its sender', defaults: {} },
  { spec: vdiskClass, description: 'block device, memory backing', defaults: { capacity: String(DEMO_DISK_BYTES) } },
  { spec: vconsoleClass, description: 'character stream to the host (memory endpoint)', defaults: {} },
  { spec: vrngClass, description: 'bytes from the platform CSPRNG', defaults: {} },
];

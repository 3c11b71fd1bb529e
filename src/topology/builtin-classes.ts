/** The device classes a topology file can name with `builtin:` (every class that ships). */
import type { DeviceClassSpec } from '../host/device-class.js';
import { venetLoopbackClass, venetSwitchClass, venetTapClass } from '../devices/venet/index.js';
import { vdiskClass } from '../devices/vdisk/index.js';
import { vconsoleClass } from '../devices/vconsole/index.js';
import { vrngClass } from '../devices/vrng/index.js';

export const BUILTIN_CLASSES: ReadonlyMap<string, DeviceClassSpec> = new Map(
  [venetLoopbackClass, venetSwitchClass, venetTapClass, vdiskClass, vconsoleClass, vrngClass].map((c) => [c.name, c]),
);

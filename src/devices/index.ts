export * from './venet/index.js';
export * from './vdisk/index.js';
export * from './vconsole/index.js';
export * from './vrng/index.js';
// venet's and vdisk's ABIs both call their info-record size INFO_BYTES: an explicit
// export settles the ambiguous `export *` (the bare name stays venet's).
export { INFO_BYTES } from './venet/index.js';
export { INFO_BYTES as VDISK_INFO_BYTES } from './vdisk/index.js';

import { venetLoopbackClass, venetSwitchClass } from './venet/class.js';
import { venetTapClass } from './venet/tap-class.js';
import { vdiskClass } from './vdisk/class.js';
import { vconsoleClass } from './vconsole/class.js';
import { vrngClass } from './vrng/class.js';
import type { DeviceClassSpec } from '../host/device-class.js';

/** Every class that ships, e.g. for `replayRecording(rec, { classes: SHIPPED_CLASSES })`. */
export const SHIPPED_CLASSES: readonly DeviceClassSpec[] = Object.freeze([venetLoopbackClass, venetSwitchClass, venetTapClass, vdiskClass, vconsoleClass, vrngClass]);

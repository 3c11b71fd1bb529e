/**
 * The device classes the demo offers, in one list: the real venet classes, and stand-ins
 * (./standins/) for vdisk, vconsole and vrng until their real classes are merged —
 * replacing a stand-in is a change to this list and to guest-devices.ts.
 *
 * venet-tap is not offered: it needs the OS network (Node only) and the demo runs the
 * same classes on Node and in a browser. vdisk uses memory backing on both.
 */
import type { DeviceClassSpec } from '../host/device-class.js';
import { venetLoopbackClass, venetSwitchClass } from '../devices/venet/index.js';
import { blockStandinClass } from './standins/block.js';
import { consoleStandinClass } from './standins/console.js';
import { entropyStandinClass } from './standins/entropy.js';

/** A class the demo offers, with a line for the page. */
export interface DemoClass {
  spec: DeviceClassSpec;
  description: string;
}

export const DEMO_CLASSES: readonly DemoClass[] = [
  { spec: venetSwitchClass, description: 'MAC-learning switch among every bus it is linked to' },
  { spec: venetLoopbackClass, description: 'returns every frame to its sender' },
  { spec: blockStandinClass, description: 'block device, memory backing' },
  { spec: consoleStandinClass, description: 'character stream to the host' },
  { spec: entropyStandinClass, description: 'bytes from the platform CSPRNG' },
];

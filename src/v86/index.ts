/**
 * v86 guests (platform-neutral parts): the start data, the kernel command line, the
 * NIC and serial bridges, the host-side console helper. Node starts VMs with
 * src/platform/node-v86.ts; a page with web/v86.js.
 */
export { runV86Guest } from './guest.js';
export { bridgeNic, bridgeSerial } from './bridge.js';
export type { BridgeCounters, V86Emulator } from './bridge.js';
export { V86Console, V86_PROMPT } from './console.js';
export { V86_DEFAULT_MEMORY, v86Cmdline } from './types.js';
export type { V86GuestData, V86GuestEvent, V86Image } from './types.js';

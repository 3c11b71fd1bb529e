/** The message transport: a bus without SharedArrayBuffer (see mirror.ts). */
export { syncSetup } from './sync-gate.js';
export type { MirrorStats } from './mirror.js';
export { messageStats } from './message-bus.js';
export { setBlockingReceive, canBlock } from './mirror.js';
export type { BlockingReceive, MirrorPort } from './mirror.js';

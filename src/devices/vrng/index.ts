/** vrng: the virtual-entropy device class, its model and guest driver. */
export * as entropyAbi from './abi.js';
export { ENTROPY_INTERFACE } from './abi.js';
export { vrngClass, VRNG_CLASS } from './class.js';
export { EntropyModel, createEntropyModel, parseEntropyQuota } from './model.js';
export type { EntropyCounters } from './model.js';
export { openRng, GuestRng } from './driver.js';
export { vrngState, VRNG_STATE_VERSION } from './state.js';

export { saveBuses } from './save.js';
export type { SaveOptions } from './save.js';
export { restoreBuses } from './restore.js';
export type { RestoreResult } from './restore.js';
export type { SafePointOptions } from './safe-point.js';
export { encodeSnapshot, decodeSnapshot, SNAPSHOT_VERSION, SNAPSHOT_KIND } from './format.js';
export type { BusSnapshot, SavedBus, SavedDevice, SavedMember } from './format.js';

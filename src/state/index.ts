export { encodeDocument, decodeDocument, CONTAINER_MAGIC, CONTAINER_VERSION } from './codec.js';
export type { StateValue, DecodedDocument } from './codec.js';
export { crc32 } from './crc32.js';
export { loadableVersions } from './contract.js';
export type { DeviceState, DeviceStateSpec } from './contract.js';
export { StateReader } from './read.js';
export {
  saveDeviceState, loadDeviceState, encodeDeviceState, decodeDeviceState, stateToValue, stateFromValue, DEVICE_STATE_KIND,
} from './device-state.js';

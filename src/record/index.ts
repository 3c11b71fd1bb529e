export { recordDevice, DeviceRecorder, RECORD_DEFAULT_MAX_BYTES } from './recorder.js';
export type { RecordOptions } from './recorder.js';
export { replayRecording } from './replayer.js';
export type { ReplayOptions, ReplayResult, ReplayMismatch } from './replayer.js';
export { encodeRecording, decodeRecording, RECORDING_VERSION, RECORDING_KIND } from './format.js';
export type { Recording, Step } from './format.js';
export type { RecordableModel } from './contract.js';

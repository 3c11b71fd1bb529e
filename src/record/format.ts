/**
 * The recording file: a versioned document (src/state/codec.ts: magic, container
 * version, checksum) of kind 'recording' holding
 *
 *   version   RECORDING_VERSION, the layout of what follows
 *   cls       the recorded device's class; device: its name
 *   initial   the device's state when recording started (src/state)
 *   steps     every entry into the model, in order (see Step)
 *   final     the device's state when recording stopped (null if the recording was cut)
 *   truncated the recording reached its byte bound and kept no later step
 *
 * A step is one hook call (`k`: link, unlink, open, shm, call, poll, signal, close, attr),
 * one outside entry (`entry`: an endpoint's input, a timer) or a promise settling
 * (`settle`). Each holds its arguments, `in` (the bytes the guest had changed in the
 * device's regions since the step before: runs of [offset, bytes]), what the model
 * returned (`ret`, or `err` with the errno code), and what it did: `out` (CRC-32 and
 * length of the bytes it changed in its regions), `raised` (signals it raised, with
 * counts), `ev` (device events it posted, with what posting returned), `src` (what the
 * world answered its sources), `reply` for a call.
 */
import { vbusError } from '../errors.js';
import { decodeDocument, encodeDocument, type StateValue } from '../state/codec.js';
import type { DeviceState } from '../state/contract.js';
import { stateFromValue, stateToValue } from '../state/device-state.js';
import { StateReader } from '../state/read.js';

export const RECORDING_KIND = 'recording';
/** The recording layout this runtime writes and reads. */
export const RECORDING_VERSION = 1;

/** One step (see the file comment). */
export type Step = { k: string } & { [key: string]: StateValue };

export interface Recording {
  version: number;
  cls: string;
  device: string;
  initial: DeviceState;
  steps: Step[];
  final: DeviceState | null;
  truncated: boolean;
}

export function encodeRecording(r: Recording): Uint8Array {
  return encodeDocument(RECORDING_KIND, {
    version: r.version, cls: r.cls, device: r.device, initial: stateToValue(r.initial),
    steps: r.steps, final: r.final ? stateToValue(r.final) : null, truncated: r.truncated,
  });
}

/** Reads a recording file; EINVAL if it is damaged, ENOTSUP for another layout version (naming both). */
export function decodeRecording(bytes: Uint8Array, what = 'recording'): Recording {
  const v = decodeDocument(bytes, RECORDING_KIND, what).value;
  const r = new StateReader(v, what);
  const version = r.field('version').int(0, 0xffffffff);
  if (version !== RECORDING_VERSION) {
    throw vbusError('ENOTSUP', `${what}: recording version ${version} cannot be read (this runtime reads recording version ${RECORDING_VERSION})`, { what, version, supported: RECORDING_VERSION });
  }
  const steps = r.field('steps').items().map((s) => {
    s.field('k').str();
    return s.value as Step;
  });
  const fin = r.field('final');
  return {
    version, cls: r.field('cls').str(), device: r.field('device').str(),
    initial: stateFromValue((v as Record<string, StateValue>)['initial']!, `${what}: initial state`),
    steps, final: fin.value === null ? null : stateFromValue(fin.value!, `${what}: final state`),
    truncated: r.field('truncated').bool(),
  };
}

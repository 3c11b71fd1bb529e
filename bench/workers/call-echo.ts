/**
 * Echo peers for the call benchmark's baselines: a postMessage echo on a
 * MessageChannel, and a comlink-exposed echo. Pins itself to workerData.pinCpu.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { pinSelf } from '../harness/pin.js';

const data = workerData as { pinCpu?: number; mode: 'postMessage' | 'comlink' };
if (data.pinCpu !== undefined) pinSelf(data.pinCpu);
if (data.mode === 'comlink') {
  Comlink.expose({ echo: (x: Uint8Array) => x }, nodeEndpoint(parentPort!));
} else {
  parentPort!.on('message', (m: Uint8Array) => parentPort!.postMessage(m));
}

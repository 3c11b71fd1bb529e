/**
 * The device model the call benchmark calls: echo the payload. A module with a factory
 * so the same code runs in the host thread and in a backend worker; in a backend it
 * pins its thread first when asked (`init.pinCpu`).
 */
import { isMainThread } from 'node:worker_threads';
import type { ConnectorModel } from '../../src/index.js';
import { pinSelf } from '../harness/pin.js';

export interface EchoInit { pinCpu?: number }

export function createModel(init: EchoInit | null): ConnectorModel {
  if (!isMainThread && init?.pinCpu !== undefined) pinSelf(init.pinCpu);
  return {
    call(_conn, _func, payload, out) {
      out.set(payload); // out overlaps payload: same bytes, no copy needed for an echo
      return payload.length;
    },
  };
}

export const ECHO_MODEL_URL = new URL('./echo-model.js', import.meta.url);

/**
 * The piscina task that runs one backend (Node only: it drains its control port with
 * receiveMessageOnPort between blocking waits). Started by src/platform/node-backend.ts.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { BusMemory } from '../../core/bus-memory.js';
import { vbusError } from '../../errors.js';
import type { ConnectorModel } from '../types.js';
import { BackendLoop } from './backend-loop.js';
import type { BackendControl, BackendReport, BackendStart } from './protocol.js';

export default async function runBackend(start: BackendStart & { port: MessagePort }): Promise<BackendReport> {
  const bus = BusMemory.attach(start.memory, start.module);
  const mod = (await import(start.modelUrl)) as Record<string, unknown>;
  const factory = mod[start.modelExport];
  if (typeof factory !== 'function') {
    throw vbusError('ENOENT', `${start.modelUrl} has no export '${start.modelExport}' to create the device model`, { modelUrl: start.modelUrl });
  }
  const model = (factory as (init: unknown) => ConnectorModel)(start.init);
  const port = start.port;
  const take = (): BackendControl[] => {
    const out: BackendControl[] = [];
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) out.push(m.message as BackendControl);
    return out;
  };
  const loop = new BackendLoop(bus, start.busName, start.deviceId, start.doorbell, model, start.slotPayload, take, start.spin, (n) => port.postMessage(n));
  const report = loop.run();
  port.close();
  return report;
}

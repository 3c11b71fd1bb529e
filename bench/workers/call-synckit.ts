/** synckit worker for the call benchmark: echoes its argument. Pins itself (VBUS_PIN_CPU). */
import { runAsWorker } from 'synckit';
import { pinSelf } from '../harness/pin.js';

const cpu = process.env.VBUS_PIN_CPU;
if (cpu !== undefined && cpu !== '') pinSelf(Number(cpu));
runAsWorker(async (x: Uint8Array) => x);

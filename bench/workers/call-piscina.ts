/** piscina task for the call benchmark: echoes its argument. Pins its thread once (VBUS_PIN_CPU). */
import { pinSelf } from '../harness/pin.js';

let pinned = false;
export default function echo(x: Uint8Array): Uint8Array {
  if (!pinned) {
    pinned = true;
    const cpu = process.env.VBUS_PIN_CPU;
    if (cpu !== undefined && cpu !== '') pinSelf(Number(cpu));
  }
  return x;
}

/**
 * Demo worker: takes every record from its input ring and forwards it, unchanged, to its
 * output ring (main -> A -> B -> main). Reads in place (peek) and writes in place
 * (reserve/commit), so each hop is one copy. Stops after forwarding the TAG_END record.
 */
import { BusMemory, RingConsumer, RingProducer, Notifier, Waiter, Status, serveSync, type RingDescriptor } from '../internal.js';
import { nodeWorkerSelf } from '../platform/node-worker.js';
import { TAG_END } from './records.js';

export interface ForwarderData {
  name: string;
  memory: WebAssembly.Memory;
  module: WebAssembly.Module;
  input: RingDescriptor;
  output: RingDescriptor;
  /** Signal that wakes us (the input ring's) and the one we raise (the output ring's). */
  wakeSignal: number;
  raiseSignal: number;
}

export interface ForwarderReport { name: string; records: number; bytes: number; parks: number; spinHits: number; error?: string }

const self = nodeWorkerSelf();
const d = self.data as ForwarderData;
const bus = BusMemory.attach(d.memory, d.module);
const input = new RingConsumer(bus, d.input);
const output = new RingProducer(bus, d.output);
const waiter = new Waiter(bus, d.wakeSignal);
const notifier = new Notifier(bus, d.raiseSignal);
const u8 = bus.u8;
const idle = new Int32Array(new SharedArrayBuffer(4));

let records = 0;
let bytes = 0;
let done = false;
let error: string | undefined;

/** Reserves room on the output, publishing what is pending and backing off while it is full. */
function reserveOut(len: number, tag: number): number {
  for (let tries = 0; ; tries++) {
    const at = output.reserve(len, tag);
    if (at !== Status.FULL) return at;
    if (output.commit() > 0) notifier.raise(); // let the next hop make room
    if (tries > 64) Atomics.wait(idle, 0, 0, 0.05); // full for a while: back off 50 us
  }
}

/** Forwards what is in the input ring now; returns the records moved. */
function forward(): number {
  let n = 0;
  for (;;) {
    const len = input.peek();
    if (len < 0) { if (len !== Status.EMPTY) error = `${d.name}: input ring ${input.fault}`; break; }
    const tag = input.tag;
    const at = reserveOut(len, tag);
    if (at < 0) { error = `${d.name}: output ring ${output.fault}`; break; }
    u8.copyWithin(at, input.peekOffset, input.peekOffset + len); // the payload, byte for byte
    n++;
    bytes += len;
    if ((n & 31) === 0) { output.commit(); notifier.raise(); input.release(); }
    if (tag === TAG_END) { done = true; break; }
  }
  if (n > 0) {
    output.commit(); // payloads before tail, then the signal
    notifier.raise();
    input.release();
    records += n;
  }
  return n;
}

// The serve loop (src/core/serve-loop.ts): while records keep coming it drains again with
// notification off, and parks only after a drain that found the input empty.
serveSync(waiter, {
  drain: forward,
  arrived: () => input.used() > 0,
  running: () => !done && !error,
  sliceMs: Infinity,
  drainUntilEmpty: true,
});

const report: ForwarderReport = { name: d.name, records, bytes, parks: waiter.parks, spinHits: waiter.spinHits, ...(error ? { error } : {}) };
self.post(report);

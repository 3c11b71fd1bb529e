/**
 * The echo guest: runs inside a worker (worker_threads or a Web Worker, through the
 * platform layer's workerContext), attaches to the bus memory it was handed and sends
 * every record of one ring back on another, unchanged, until the host sets STOP.
 * Environment-neutral; it may block (Atomics.wait), as workers may.
 */
import {
  BusMemory, RingConsumer, RingProducer, Notifier, Waiter, Status, adoptCoreModule, serveSync,
} from '../core/index.js';
import { vbusError } from '../errors.js';
import type { WorkerContext } from '../platform/types.js';
import { ECHO_CTL_OFF_ECHOED, ECHO_CTL_OFF_STOP } from './echo-layout.js';
import type { EchoGuestReady, EchoGuestReport, EchoStart } from './echo-layout.js';

/** Records echoed per commit: one index store and at most one wake-up per batch. */
const BATCH = 64;
/** Longest park before re-reading STOP, in ms (the host also raises the signal on stop). */
const PARK_MS = 200;

/** Runs the echo loop on `ctx`'s start data; posts an {@link EchoGuestReport} and exits 0. */
export function runEchoGuest(ctx: WorkerContext<EchoStart>): void {
  const start = ctx.data;
  adoptCoreModule(start.module);
  const bus = BusMemory.attach(start.memory, start.module);
  const input = new RingConsumer(bus, start.toGuest);
  const output = new RingProducer(bus, start.fromGuest);
  const wake = new Waiter(bus, start.guestSignal);
  const notifyHost = new Notifier(bus, start.hostSignal);
  const stopIdx = (start.control + ECHO_CTL_OFF_STOP) >> 2;
  const echoedIdx = (start.control + ECHO_CTL_OFF_ECHOED) >> 2;
  const u8 = bus.u8;
  let echoed = 0;

  ctx.postMessage({ type: 'echo-ready' } satisfies EchoGuestReady);

  const stopped = () => Atomics.load(bus.i32, stopIdx) !== 0; // STOP is set before the raise that wakes us

  /** Echoes what is in the input ring. */
  const drain = (): void => {
    let moved = 0;
    for (;;) {
      const len = input.peek();
      if (len === Status.EMPTY) break;
      if (len < 0) throw vbusError('EIO', `echo guest: input ring at ${input.offset} faulted: ${input.fault}`);
      let at = output.reserve(len, input.tag);
      while (at === Status.FULL) {
        // The host keeps less in flight than a ring holds, so this is rare: publish what
        // we have and let the host drain.
        publish(moved);
        moved = 0;
        if (stopped()) return;
        Atomics.wait(bus.i32, stopIdx, 0, 1); // a 1 ms back-off; reads STOP afresh each round
        at = output.reserve(len, input.tag);
      }
      if (at < 0) throw vbusError('EIO', `echo guest: output ring at ${output.offset} faulted: ${output.fault}`);
      u8.copyWithin(at, input.peekOffset, input.peekOffset + len);
      moved++;
      if (moved % BATCH === 0) { publish(BATCH); moved = 0; }
    }
    publish(moved);
  };

  const publish = (n: number): void => {
    if (output.commit() < 0) throw vbusError('EIO', `echo guest: output ring at ${output.offset} faulted: ${output.fault}`);
    if (input.release() < 0) throw vbusError('EIO', `echo guest: input ring at ${input.offset} faulted: ${input.fault}`);
    if (n > 0) {
      echoed += n;
      Atomics.store(bus.u32, echoedIdx, echoed); // for live stats; no ordering needed beyond visibility
      notifyHost.raise(); // after the commit it announces
    }
  };

  // The serve loop (src/core/serve-loop.ts): drain, enable, re-check, park.
  serveSync(wake, {
    drain,
    arrived: () => input.used() > 0 || stopped(),
    running: () => !stopped(),
    sliceMs: PARK_MS,
  });
  ctx.postMessage({ type: 'echo-done', echoed, parks: wake.parks } satisfies EchoGuestReport);
  ctx.exit(0);
}

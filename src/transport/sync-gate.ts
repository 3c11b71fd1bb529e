/**
 * Synchronous calls where a worker cannot block. A guest's synchronous DEVCALL parks its
 * thread until the reply; on the message transport that needs a blocking receive, which
 * Node workers have (receiveMessageOnPort) and browser workers do not. There:
 *  - a synchronous call fails with EAGAIN before anything is sent (the async forms work);
 *  - DEVCLOSE is sent without waiting (closing answers nothing the caller needs);
 *  - {@link syncSetup} runs driver setup code that makes synchronous calls (open, query,
 *    DEVSHM) unchanged: each call without an answer yet is sent asynchronously and the
 *    setup is run again from the start once it is answered, replaying the answers so far.
 *    Setup code must make the same calls in the same order each time (driver setup does:
 *    it depends only on the answers).
 */
import { OP_DEVCLOSE } from '../../assembly/layout/callslot.js';
import { vbusError } from '../errors.js';
import type { BusMemory } from '../core/bus-memory.js';
import type { AsyncCaller, CallOptions, Request } from '../guest/call-types.js';
import { canBlock, syncUnavailable } from './mirror.js';

interface Answer { key: string; ret: number; out: Uint8Array | null; rvals: Uint32Array; rlen: number }

/** Thrown through the setup code when a call was sent and its answer is awaited. */
const PENDING = Symbol('vbus setup call pending');

/** Most re-runs of one setup (each re-run answers one more call). */
const MAX_RERUNS = 1024;

class SetupRun {
  readonly answers: Answer[] = [];
  at = 0;
  pending: Promise<void> | null = null;

  call(client: AsyncCaller, req: Request, out: Uint8Array | null): number {
    const key = requestKey(req);
    if (this.pending) { // unwinding after a call was sent: nothing else goes out in this run
      if (req.op === OP_DEVCLOSE) return 0;
      throw PENDING;
    }
    if (this.at < this.answers.length) {
      const a = this.answers[this.at++]!;
      if (a.key !== key) {
        throw vbusError('EPROTO', `setup code made a different call when run again (${key} instead of ${a.key}); syncSetup needs setup code that depends only on the answers`, { expected: a.key, got: key });
      }
      client.rvals.set(a.rvals);
      client.rlen = a.rlen;
      if (out && a.out && a.ret > 0) out.set(a.out.subarray(0, Math.min(a.ret, out.length)));
      return a.ret;
    }
    const buf = out ? new Uint8Array(out.length) : null;
    this.pending = client.callAsync(req, buf).then((ret) => {
      this.answers.push({ key, ret, out: buf, rvals: client.rvals.slice(), rlen: client.rlen });
    });
    throw PENDING;
  }
}

let current: SetupRun | null = null;

function requestKey(r: Request): string {
  const p = r.payload;
  let h = 0;
  if (p) for (let i = 0; i < p.length; i++) h = (Math.imul(h, 31) + p[i]!) | 0;
  return `${r.op}/${r.devId ?? 0}/${r.handle ?? 0}/${r.func ?? 0}/${r.args?.join(',') ?? ''}/${p?.length ?? 0}:${h}`;
}

/** True if synchronous calls on `bus` cannot block in this thread. */
export function syncCallsGated(bus: BusMemory): boolean {
  return bus.transport === 'message' && !canBlock();
}

/** CallClient.callSync on a bus where this thread cannot block (see the file comment). */
export function gatedCallSync(client: AsyncCaller, req: Request, out: Uint8Array | null, _opts: CallOptions): number {
  if (current) return current.call(client, req, out);
  if (req.op === OP_DEVCLOSE) {
    void client.callAsync(req, null).catch(() => undefined);
    return 0;
  }
  throw syncUnavailable();
}

/**
 * Runs `setup`, which may make synchronous calls (guest.open, conn.call, txQueue, …),
 * and resolves with its result. Where synchronous calls can block it simply runs it;
 * on the message transport in a browser worker it replays it as described above.
 */
export async function syncSetup<T>(guest: { bus: BusMemory }, setup: () => T): Promise<T> {
  if (!syncCallsGated(guest.bus)) return setup();
  const run = new SetupRun();
  for (let n = 0; n < MAX_RERUNS; n++) {
    run.at = 0;
    run.pending = null;
    const outer = current;
    current = run;
    try {
      return setup();
    } catch (e) {
      if (e !== PENDING || !run.pending) throw e;
    } finally {
      current = outer;
    }
    await run.pending;
  }
  throw vbusError('EIO', `setup made more than ${MAX_RERUNS} synchronous calls`);
}

/**
 * The host's end of the save protocol with one guest worker (the guest's end is
 * `guest.onQuiesce` / `guest.onSave` in src/guest/join.ts): a request, and its answer
 * within a deadline.
 */
import { ERRNO, VbusError, vbusError, type ErrnoCode } from '../errors.js';
import type { GuestWorker } from '../connector/spawn-guest.js';
import type { GuestControlMessage } from '../guest/join.js';

let nextReq = 1;
const listening = new WeakMap<GuestWorker, Map<number, (m: GuestControlMessage) => void>>();

function answers(g: GuestWorker): Map<number, (m: GuestControlMessage) => void> {
  let m = listening.get(g);
  if (!m) {
    const waiting = new Map<number, (m: GuestControlMessage) => void>();
    g.worker.onMessage((raw) => {
      const msg = raw as GuestControlMessage;
      if (typeof msg !== 'object' || msg === null || (msg.type !== 'vbus:quiesced' && msg.type !== 'vbus:saved' && msg.type !== 'vbus:continued')) return;
      const done = waiting.get(msg.req);
      if (done) { waiting.delete(msg.req); done(msg); }
    });
    listening.set(g, waiting);
    m = waiting;
  }
  return m;
}

/** What a guest answered: what its hook returned, and on save its connector's own state (src/guest/resume.ts). */
export interface GuestAnswer { state: unknown; connector: unknown }

/** Asks guest `g` to quiesce, save or continue; resolves with its answer. ETIMEDOUT after `timeoutMs`. */
export function askGuest(g: GuestWorker, what: 'vbus:quiesce' | 'vbus:save' | 'vbus:continue', timeoutMs: number): Promise<GuestAnswer> {
  const req = nextReq++;
  const waiting = answers(g);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      waiting.delete(req);
      reject(vbusError('ETIMEDOUT', `guest ${g.memberId} did not answer ${what.slice(5)} within ${timeoutMs} ms`, { member: g.memberId }));
    }, timeoutMs);
    void g.exited.then((code) => {
      if (!waiting.has(req)) return;
      waiting.delete(req);
      clearTimeout(timer);
      reject(vbusError('ENODEV', `guest ${g.memberId} exited (code ${code}) before it answered ${what.slice(5)}`, { member: g.memberId }));
    });
    waiting.set(req, (m) => {
      clearTimeout(timer);
      if (!('error' in m) || !m.error) { resolve({ state: 'state' in m ? m.state : undefined, connector: 'connector' in m ? m.connector : undefined }); return; }
      const code = (m.error.code in ERRNO ? m.error.code : 'EIO') as ErrnoCode;
      reject(new VbusError(code, `guest ${g.memberId} failed to ${what.slice(5)}: ${m.error.message}`, { member: g.memberId }));
    });
    g.postMessage({ type: what, req } satisfies GuestControlMessage);
  });
}

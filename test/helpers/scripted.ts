// Drives test/fixtures/guest-scripted.mjs from a test: cmd() sends a command and resolves
// with the guest's answer; events (probe/remove/devevent/ready) are collected in order.
import type { GuestWorker } from '../../dist/src/index.js';

export interface Scripted {
  guest: GuestWorker;
  events: Array<Record<string, unknown>>;
  cmd(cmd: string, args?: Record<string, unknown>): Promise<Record<string, any>>;
  waitEvent(pred: (e: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

export const SCRIPTED_URL = new URL('../fixtures/guest-scripted.mjs', import.meta.url);

export function drive(guest: GuestWorker): Scripted {
  const events: Array<Record<string, unknown>> = [];
  const pending = new Map<number, (r: Record<string, any>) => void>();
  const listeners = new Set<() => void>();
  let next = 1;
  guest.onMessage((m) => {
    const msg = m as Record<string, any>;
    if (typeof msg.id === 'number' && pending.has(msg.id)) {
      pending.get(msg.id)!(msg);
      pending.delete(msg.id);
    } else if (msg.event) {
      events.push(msg);
      for (const l of listeners) l();
    }
  });
  return {
    guest,
    events,
    cmd(cmd, args = {}) {
      const id = next++;
      return new Promise((resolve, reject) => {
        pending.set(id, resolve);
        guest.exited.then(({ code }) => { if (pending.has(id)) { pending.delete(id); reject(new Error(`guest exited (${code}) during ${cmd}`)); } });
        guest.postMessage({ id, cmd, ...args });
      });
    },
    waitEvent(pred, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const e = events.find(pred);
          if (e) { listeners.delete(check); clearTimeout(t); resolve(e); return true; }
          return false;
        };
        const t = setTimeout(() => { listeners.delete(check); reject(new Error(`event not seen in ${timeoutMs} ms; saw ${JSON.stringify(events)}`)); }, timeoutMs);
        if (!check()) listeners.add(check);
      });
    },
  };
}

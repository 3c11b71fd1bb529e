// Shared setup for the save/restore and record/replay tests: a host with every shipped
// class registered, the test guest (fixtures/guest-state.mjs), and a way to release it.
import { afterEach } from 'vitest';
import { VbusHost, registerVenetClasses, vdiskClass, vconsoleClass, vrngClass, type Bus } from '../../dist/src/index.js';
import { drive, type Scripted } from './scripted.js';

export const STATE_GUEST_URL = new URL('../fixtures/guest-state.mjs', import.meta.url);

export function fullHost(): VbusHost {
  const host = new VbusHost();
  registerVenetClasses(host);
  host.registerClass(vdiskClass);
  host.registerClass(vconsoleClass);
  host.registerClass(vrngClass);
  return host;
}

/** For a test file: hosts made with make() are released after each test. */
export function useHosts(): () => VbusHost {
  const made: VbusHost[] = [];
  afterEach(async () => {
    for (const h of made.splice(0)) { await h.connector.release(); h.release(); }
  });
  return () => { const h = fullHost(); made.push(h); return h; };
}

/** Starts the state guest on `bus` and waits until it is ready. */
export async function stateGuest(host: VbusHost, bus: Bus): Promise<Scripted> {
  const g = drive(host.spawnGuest(bus, STATE_GUEST_URL));
  await g.waitEvent((e) => e.event === 'ready');
  return g;
}

/** Runs a guest command and fails the test with the guest's error if it failed. */
export async function ok(g: Scripted, cmd: string, args: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const r = await g.cmd(cmd, args);
  if (!r.ok) throw new Error(`${cmd} failed in the guest: ${r.error} ${r.message}`);
  return r;
}

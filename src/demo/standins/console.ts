/**
 * Stand-in `vconsole` (interface `virtual-console`) for the demo until the real class
 * is merged: a guest writes text with a DEVCALL and the host collects it line by line.
 *
 *   WRITE (func 1): request UTF-8 bytes; reply empty
 */
import type { DeviceClassSpec } from '../../host/device-class.js';
import type { Device } from '../../host/device.js';
import type { Connection } from '../../guest/connection.js';
import type { GuestConnector } from '../../guest/connector.js';
import { callModel, type CallCounters } from './call-model.js';

export const CONSOLE_INTERFACE = 'virtual-console';
export const CONSOLE_VERSION = 1;
export const CONSOLE_FUNC_WRITE = 1;
/** Lines a console keeps for the admin (`tail`). */
const KEEP_LINES = 50;

interface ConsoleState extends CallCounters { bytes: number; lines: string[]; partial: string; listeners: Set<(line: string) => void> }
const consoles = new WeakMap<Device, ConsoleState>();

/** Calls `fn` with every complete line a guest writes to the console `device`; returns an unsubscribe function. */
export function onConsoleLine(device: Device, fn: (line: string) => void): () => void {
  const st = consoles.get(device);
  if (!st) return () => {};
  st.listeners.add(fn);
  return () => { st.listeners.delete(fn); };
}

export const consoleStandinClass: DeviceClassSpec = {
  name: 'vconsole',
  interfaces: [CONSOLE_INTERFACE],
  exclusive: true,
  attributes: [
    { name: 'bytes', mode: 'ro', show: (d) => String(consoles.get(d)?.bytes ?? 0) },
    { name: 'tail', mode: 'ro', show: (d) => consoles.get(d)?.lines.slice(-5).join('\n') ?? '' },
  ],
  create(device) {
    const st: ConsoleState = { calls: 0, errors: 0, bytes: 0, lines: [], partial: '', listeners: new Set() };
    consoles.set(device, st);
    const decoder = new TextDecoder();
    return callModel(CONSOLE_VERSION, {
      [CONSOLE_FUNC_WRITE]: (req) => {
        st.bytes += req.length;
        const parts = (st.partial + decoder.decode(req)).split('\n');
        st.partial = parts.pop()!.slice(-4096); // a guest that never ends a line cannot grow this without bound
        for (const line of parts) {
          st.lines.push(line);
          if (st.lines.length > KEEP_LINES) st.lines.shift();
          for (const fn of st.listeners) fn(line);
        }
        return 0;
      },
    }, st);
  },
};

/** Guest side of the stand-in console. */
export class ConsoleStandinDriver {
  private readonly conn: Connection;
  private readonly encoder = new TextEncoder();
  constructor(guest: GuestConnector, id: number) { this.conn = guest.open(id, CONSOLE_VERSION); }
  write(text: string): void {
    const bytes = this.encoder.encode(text);
    for (let at = 0; at < bytes.length; at += this.conn.payloadMax) {
      this.conn.call(CONSOLE_FUNC_WRITE, bytes.subarray(at, at + this.conn.payloadMax));
    }
  }
  close(): void { try { this.conn.close(); } catch { /* already gone */ } }
}

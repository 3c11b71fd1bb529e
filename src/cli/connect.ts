/**
 * Which runtime a command talks to: `--socket PATH` (a grant socket, or any socket
 * path), else `--runtime NAME` in the runtime directory, else the only runtime there
 * (EINVAL naming them when there are several; ENOENT when there is none). The token
 * comes from `--token` or `VBUS_TOKEN`.
 */
import { readdirSync } from 'node:fs';
import { vbusError } from '../errors.js';
import { ControlClient } from '../control/client.js';
import { runtimeDir, socketPath } from '../control/runtime-dir.js';

export interface GlobalOptions {
  runtime?: string;
  socket?: string;
  token?: string;
  json?: boolean;
  timeout?: number;
}

export function chooseSocket(g: GlobalOptions): string {
  if (g.socket ?? process.env['VBUS_SOCKET']) return (g.socket ?? process.env['VBUS_SOCKET'])!;
  const name = g.runtime ?? process.env['VBUS_RUNTIME'];
  if (name) return socketPath(name);
  const dir = runtimeDir();
  let socks: string[] = [];
  try { socks = readdirSync(dir).filter((n) => n.endsWith('.sock')); } catch { /* none */ }
  if (socks.length === 0) throw vbusError('ENOENT', `no runtime is running (nothing in ${dir}); start one with: vbus run FILE`, { dir });
  if (socks.length > 1) throw vbusError('EINVAL', `several runtimes run (${socks.map((s) => s.slice(0, -5)).join(', ')}); choose one with --runtime NAME`, { dir });
  return socketPath(socks[0]!.slice(0, -5), dir);
}

/** Connects, runs `fn`, closes. */
export async function withClient<T>(g: GlobalOptions, fn: (c: ControlClient) => Promise<T>): Promise<T> {
  const token = g.token ?? process.env['VBUS_TOKEN'];
  const c = await ControlClient.connect(chooseSocket(g), { timeoutMs: g.timeout ?? 5000, ...(token ? { token } : {}) });
  try { return await fn(c); } finally { c.close(); }
}

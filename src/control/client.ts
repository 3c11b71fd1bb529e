/**
 * Node only. A client of a runtime's control socket: one connection, requests answered
 * in order, each within a deadline (ETIMEDOUT otherwise). Errors the runtime returns
 * come back as VbusErrors with the runtime's code and message.
 */
import { createConnection, type Socket } from 'node:net';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { VbusError, vbusError, type ErrnoCode, ERRNO } from '../errors.js';
import { CONTROL_PROTOCOL_VERSION, MAX_LINE_BYTES, type ControlOp, type ControlOps, type ControlResponse, type HelloResult } from './protocol.js';
import { runtimeDir } from './runtime-dir.js';

export interface ConnectOptions {
  /** Deadline of the connection and of each request, ms (default 5000). */
  timeoutMs?: number;
  /** Capability token (a delegated client). */
  token?: string;
}

export class ControlClient {
  private nextId = 1;
  private buf = '';
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer: ReturnType<typeof setTimeout> }>();

  private constructor(private readonly sock: Socket, readonly path: string, private readonly opts: ConnectOptions) {
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => this.onData(chunk));
    const fail = (e: Error) => { for (const [id, w] of this.waiting) { clearTimeout(w.timer); this.waiting.delete(id); w.reject(e); } };
    sock.on('error', (e) => fail(vbusError('ECONNRESET', `control socket ${path}: ${e.message}`, { path })));
    sock.on('close', () => fail(vbusError('ECONNRESET', `control socket ${path} closed by the runtime`, { path })));
  }

  /** Connects to the socket at `path`. ENOENT (no runtime), EACCES (not yours), ECONNREFUSED (stale). */
  static connect(path: string, opts: ConnectOptions = {}): Promise<ControlClient> {
    const timeoutMs = opts.timeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const sock = createConnection(path);
      const timer = setTimeout(() => { sock.destroy(); reject(vbusError('ETIMEDOUT', `no answer from control socket ${path} within ${timeoutMs} ms`, { path })); }, timeoutMs);
      sock.once('connect', () => { clearTimeout(timer); resolve(new ControlClient(sock, path, opts)); });
      sock.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const code = (e.code && e.code in ERRNO ? e.code : 'EIO') as ErrnoCode;
        const hint = code === 'ENOENT' ? ' (is the runtime running? vbus ps lists them)'
          : code === 'EACCES' ? ' (the socket belongs to another user)'
            : code === 'ECONNREFUSED' ? ' (a stale socket: its runtime has exited)' : '';
        reject(vbusError(code, `cannot connect to control socket ${path}: ${e.message}${hint}`, { path }));
      });
    });
  }

  /** Sends one request and waits for its answer. */
  request<K extends ControlOp>(op: K, args: ControlOps[K]['args'] = {} as ControlOps[K]['args']): Promise<ControlOps[K]['result']> {
    const id = this.nextId++;
    const timeoutMs = this.opts.timeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.waiting.delete(id); reject(vbusError('ETIMEDOUT', `${op}: no answer from ${this.path} within ${timeoutMs} ms`, { op })); }, timeoutMs);
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      const req = { v: CONTROL_PROTOCOL_VERSION, id, op, args, ...(this.opts.token !== undefined ? { token: this.opts.token } : {}) };
      this.sock.write(JSON.stringify(req) + '\n');
    });
  }

  close(): void { this.sock.end(); this.sock.destroy(); }

  private onData(chunk: string): void {
    this.buf += chunk;
    if (this.buf.length > MAX_LINE_BYTES * 4 && !this.buf.includes('\n')) { this.sock.destroy(); return; }
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      let r: ControlResponse;
      try { r = JSON.parse(line) as ControlResponse; } catch { continue; }
      const w = this.waiting.get(r.id);
      if (!w) continue;
      clearTimeout(w.timer);
      this.waiting.delete(r.id);
      if (r.ok) w.resolve(r.result);
      else w.reject(remoteError(r.error));
    }
  }
}

function remoteError(e: { code: string; message: string }): VbusError {
  const code = (e.code in ERRNO ? e.code : 'EPROTO') as ErrnoCode;
  const msg = e.message.startsWith(`${code}: `) ? e.message.slice(code.length + 2) : e.message;
  return vbusError(code, msg, {});
}

/** A runtime found in the runtime directory. */
export interface RuntimeEntry {
  name: string;
  socket: string;
  /** hello's answer, or why it could not be reached. */
  hello?: HelloResult;
  error?: { code: string; message: string };
}

/** Every `*.sock` in the runtime directory, each asked `hello` (deadline per runtime). */
export async function listRuntimes(dir = runtimeDir(), timeoutMs = 2000): Promise<RuntimeEntry[]> {
  let names: string[];
  try { names = readdirSync(dir).filter((n) => n.endsWith('.sock')).sort(); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return [];
    throw vbusError(code === 'EACCES' ? 'EACCES' : 'EIO', `cannot list runtime directory ${dir}: ${(e as Error).message}`, { dir });
  }
  return Promise.all(names.map(async (n): Promise<RuntimeEntry> => {
    const socket = join(dir, n);
    const name = n.slice(0, -'.sock'.length);
    try {
      const c = await ControlClient.connect(socket, { timeoutMs });
      try { return { name, socket, hello: await c.request('hello') }; } finally { c.close(); }
    } catch (e) {
      const err = e instanceof VbusError ? e : vbusError('EIO', String(e));
      return { name, socket, error: { code: err.code, message: err.message } };
    }
  }));
}

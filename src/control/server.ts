/**
 * Node only. The control socket of a running runtime: an owner socket in the per-user
 * runtime directory (mode 0600 in a 0700 directory: reaching it is the owner's
 * credential, as for ssh-agent), and, once a bus has been granted, a grant socket in
 * the grant directory whose every request must carry a capability token and is
 * confined to that token's bus. See protocol.ts for the wire format.
 */
import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { chmodSync, existsSync, lstatSync, unlinkSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { VbusError, vbusError } from '../errors.js';
import type { VbusHost } from '../host/host.js';
import type { DeviceClassSpec } from '../host/device-class.js';
import { checkName } from '../host/names.js';
import { handle, type HandlerContext } from './handlers.js';
import { CONTROL_PROTOCOL_VERSION, MAX_LINE_BYTES, type ControlRequest, type ControlResponse, type GrantResult } from './protocol.js';
import { ensurePrivateDir, grantDir, runtimeDir } from './runtime-dir.js';
import { BusScope } from './scope.js';

export interface ControlServerOptions {
  /** Runtime name: the socket is `DIR/NAME.sock`. */
  name: string;
  /** Runtime directory (default: {@link runtimeDir}). */
  dir?: string;
  /** Grant directory (default: {@link grantDir}). */
  grantDir?: string;
  /** Classes `vbus modprobe` may register (default: none). */
  classes?: ReadonlyMap<string, DeviceClassSpec>;
  /** Decoded stats for `vbus top` (default: ENOTSUP). */
  stats?(bus: string | null): unknown;
  /** Called when the owner asks the runtime to stop (`vbus stop`). */
  onStop?(): void;
}

/** How long the start waits to learn whether an existing socket is answered. */
const STALE_PROBE_MS = 2000;

const hash = (token: string): string => createHash('sha256').update(token).digest('hex');

export class ControlServer {
  readonly path: string;
  private grantPath: string | undefined;
  private grantServer: Server | undefined;
  /** sha256(token) -> bus: tokens are compared by their hash, never kept in clear. */
  private readonly grants = new Map<string, string>();
  private readonly sockets = new Set<Socket>();
  private readonly ctx: HandlerContext;
  private closed = false;

  private constructor(readonly host: VbusHost, readonly name: string, private readonly server: Server, path: string, private readonly opts: ControlServerOptions) {
    this.path = path;
    this.ctx = {
      host, name, startedAt: new Date().toISOString(),
      classes: opts.classes ?? new Map(),
      grant: (bus) => this.grant(bus),
      stop: () => { setImmediate(() => opts.onStop?.()); },
      ...(opts.stats ? { stats: (scope: BusScope | null) => opts.stats!(scope ? scope.bus : null) } : {}),
    };
  }

  /** Starts listening. EACCES for an unsafe directory, EADDRINUSE if a runtime of this name runs. */
  static async start(host: VbusHost, opts: ControlServerOptions): Promise<ControlServer> {
    checkName(opts.name, 'runtime');
    const dir = opts.dir ?? runtimeDir();
    ensurePrivateDir(dir, 0o700);
    const path = join(dir, `${opts.name}.sock`);
    await clearStale(path);
    const server = createServer();
    const self = new ControlServer(host, opts.name, server, path, opts);
    server.on('connection', (s) => self.serve(s, null));
    await listen(server, path, 0o600);
    return self;
  }

  /** Issues a capability for `bus` (ENOENT if there is no such bus). */
  async grant(bus: string): Promise<GrantResult> {
    if (!this.grantServer) await this.openGrantSocket();
    return this.grantSync(bus);
  }

  private grantSync(bus: string): GrantResult {
    if (!this.host.bus(bus)) throw vbusError('ENOENT', `grant: no bus ${bus}`, { bus });
    if (!this.grantPath) throw vbusError('EAGAIN', 'grant socket not open yet', {});
    const token = randomBytes(32).toString('base64url');
    this.grants.set(hash(token), bus);
    return { bus, token, socket: this.grantPath };
  }

  private async openGrantSocket(): Promise<void> {
    const dir = this.opts.grantDir ?? grantDir();
    ensurePrivateDir(dir, 0o711);
    const path = join(dir, `${this.name}.sock`);
    await clearStale(path);
    const server = createServer();
    server.on('connection', (s) => this.serve(s, 'grant'));
    // Anyone given the path may connect; without a valid token a request gets EACCES.
    await listen(server, path, 0o666);
    this.grantServer = server;
    this.grantPath = path;
  }

  /** Stops listening, closes connections and removes the socket files. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.sockets) s.destroy();
    const shut = (srv: Server, path: string) => new Promise<void>((r) => { srv.close(() => r()); try { unlinkSync(path); } catch { /* gone */ } });
    await shut(this.server, this.path);
    if (this.grantServer) await shut(this.grantServer, this.grantPath!);
  }

  private serve(sock: Socket, kind: 'grant' | null): void {
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => { /* a client that vanished */ });
    let buf = '';
    // Requests of one connection are answered in order, one at a time.
    let queue: Promise<void> = Promise.resolve();
    sock.setEncoding('utf8');
    let refused = false;
    sock.on('data', (chunk: string) => {
      if (refused) return; // after EMSGSIZE nothing more is read from this client
      buf += chunk;
      if (buf.length > MAX_LINE_BYTES && !buf.includes('\n')) {
        refused = true;
        buf = '';
        void queue.then(() => {
          this.reply(sock, { v: CONTROL_PROTOCOL_VERSION, id: 0, ok: false, error: errorOf(vbusError('EMSGSIZE', `request line longer than ${MAX_LINE_BYTES} bytes`, {})) });
          sock.end();
        });
        return;
      }
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim()) queue = queue.then(() => this.answer(line, kind)).then((r) => this.reply(sock, r));
      }
    });
  }

  private async answer(line: string, kind: 'grant' | null): Promise<ControlResponse> {
    let req: ControlRequest;
    try { req = JSON.parse(line) as ControlRequest; } catch {
      return { v: CONTROL_PROTOCOL_VERSION, id: 0, ok: false, error: errorOf(vbusError('EPROTO', 'request is not a JSON line', {})) };
    }
    const id = typeof req?.id === 'number' ? req.id : 0;
    try {
      if (req.v !== CONTROL_PROTOCOL_VERSION) {
        throw vbusError('EPROTO', `control protocol version ${JSON.stringify(req.v)} requested; this runtime speaks version ${CONTROL_PROTOCOL_VERSION}`, { requested: req.v, spoken: CONTROL_PROTOCOL_VERSION });
      }
      let scope: BusScope | null = null;
      if (kind === 'grant' || req.token !== undefined) {
        const bus = typeof req.token === 'string' ? this.grants.get(hash(req.token)) : undefined;
        if (!bus) throw vbusError('EACCES', 'Permission denied: this socket needs a valid capability token (vbus grant BUS issues one)', {});
        scope = new BusScope(this.host, bus);
      }
      const args = req.args && typeof req.args === 'object' ? req.args : {};
      return { v: CONTROL_PROTOCOL_VERSION, id, ok: true, result: (await handle(this.ctx, String(req.op), args, scope)) ?? null };
    } catch (e) {
      return { v: CONTROL_PROTOCOL_VERSION, id, ok: false, error: errorOf(e) };
    }
  }

  private reply(sock: Socket, r: ControlResponse): void {
    if (!sock.destroyed) sock.write(JSON.stringify(r) + '\n');
  }
}

function errorOf(e: unknown): { code: string; errno: number; message: string } {
  if (e instanceof VbusError) return { code: e.code, errno: e.errno, message: e.message };
  return { code: 'EIO', errno: 5, message: `EIO: ${String((e as Error)?.message ?? e)}` };
}

/** Listens on `path` with the socket file created as `mode` (umask set for the bind, then chmod). */
function listen(server: Server, path: string, mode: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const old = process.umask(0o777 & ~mode);
    server.once('error', (e: NodeJS.ErrnoException) => {
      process.umask(old);
      reject(vbusError(e.code === 'EADDRINUSE' ? 'EADDRINUSE' : 'EIO', `cannot listen on ${path}: ${e.message}`, { path }));
    });
    server.listen(path, () => {
      process.umask(old);
      chmodSync(path, mode);
      resolve();
    });
  });
}

/** Removes a socket file nobody listens on; EADDRINUSE if a runtime answers there, EEXIST if it is not a socket. */
async function clearStale(path: string): Promise<void> {
  if (!existsSync(path)) return;
  if (!lstatSync(path).isSocket()) throw vbusError('EEXIST', `${path} exists and is not a socket; remove it or choose another runtime name`, { path });
  // A listener that does not even accept within the deadline counts as live: never remove a socket someone may own.
  const live = await new Promise<boolean>((r) => {
    const c = createConnection(path);
    const timer = setTimeout(() => { c.destroy(); r(true); }, STALE_PROBE_MS);
    c.once('connect', () => { clearTimeout(timer); c.destroy(); r(true); });
    c.once('error', () => { clearTimeout(timer); r(false); });
  });
  if (live) throw vbusError('EADDRINUSE', `a runtime already listens on ${path}; stop it (vbus stop --runtime NAME) or choose another name`, { path });
  unlinkSync(path);
}

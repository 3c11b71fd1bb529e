/**
 * One migration stream over a Node socket (Unix or TCP): frames out with back-pressure,
 * frames in, one at a time, each within a deadline. The other side is another runtime,
 * but its bytes are still checked: a length past MAX_FRAME_BODY or an unknown frame
 * type ends the stream (EPROTO) before anything is read into the bus.
 */
import { createConnection, type Socket } from 'node:net';
import { vbusError, VbusError } from '../errors.js';
import { FRAME, FRAME_HEADER_BYTES, MAX_FRAME_BODY, type FrameType } from './wire.js';

/** Where a migration target listens: a Unix socket path, or a TCP port (host defaults to 127.0.0.1). */
export type MigrationAddress = { path: string } | { host?: string; port: number };

export interface Frame { type: FrameType; body: Uint8Array }

const TYPES = new Set<number>(Object.values(FRAME));

export function describeAddress(a: MigrationAddress): string {
  return 'path' in a ? a.path : `${a.host ?? '127.0.0.1'}:${a.port}`;
}

export class FrameChannel {
  private readonly frames: Frame[] = [];
  private waiter: { resolve(f: Frame): void; reject(e: Error): void } | null = null;
  private ended: VbusError | null = null;

  constructor(readonly socket: Socket, readonly peer: string) {
    socket.setNoDelay?.(true);
    socket.on('data', (chunk: Buffer) => this.take(chunk));
    socket.on('error', (e) => this.end(vbusError('ECONNRESET', `migration stream with ${peer} failed: ${e.message}`, { peer })));
    socket.on('close', () => this.end(vbusError('ECONNRESET', `migration stream with ${peer} closed`, { peer })));
  }

  /** Connects to `to` within `timeoutMs`. */
  static connect(to: MigrationAddress, timeoutMs: number): Promise<FrameChannel> {
    const peer = describeAddress(to);
    return new Promise((resolve, reject) => {
      const s = 'path' in to ? createConnection(to.path) : createConnection(to.port, to.host ?? '127.0.0.1');
      const timer = setTimeout(() => { s.destroy(); reject(vbusError('ETIMEDOUT', `no migration target answered at ${peer} within ${timeoutMs} ms`, { peer })); }, timeoutMs);
      s.once('connect', () => { clearTimeout(timer); s.removeAllListeners('error'); resolve(new FrameChannel(s, peer)); });
      s.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(vbusError(e.code === 'ENOENT' ? 'ENOENT' : 'ECONNREFUSED', `cannot reach a migration target at ${peer}: ${e.message} (is a runtime listening there? listenForMigration)`, { peer }));
      });
    });
  }

  /** Writes `bytes` (a whole frame); resolves once the socket has room again. */
  send(bytes: Uint8Array): Promise<void> {
    if (this.ended) return Promise.reject(this.ended);
    if (this.socket.write(bytes)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (): void => { this.socket.off('drain', done); this.socket.off('close', closed); resolve(); };
      const closed = (): void => { this.socket.off('drain', done); reject(this.ended ?? vbusError('ECONNRESET', `migration stream with ${this.peer} closed`)); };
      this.socket.on('drain', done);
      this.socket.once('close', closed);
    });
  }

  /** The next frame, within `timeoutMs` (ETIMEDOUT naming `waitingFor`). */
  next(timeoutMs: number, waitingFor: string): Promise<Frame> {
    const f = this.frames.shift();
    if (f) return Promise.resolve(f);
    if (this.ended) return Promise.reject(this.ended);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(vbusError('ETIMEDOUT', `${this.peer} sent no ${waitingFor} within ${timeoutMs} ms`, { peer: this.peer }));
      }, timeoutMs);
      this.waiter = {
        resolve: (fr) => { clearTimeout(timer); resolve(fr); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
    });
  }

  /** Ends the stream (both directions) now. */
  close(): void { this.socket.destroy(); }

  get isOpen(): boolean { return this.ended === null; }

  // Incoming bytes wait as a list of chunks; each is copied once, into the frame it ends up in.
  private take(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.have += chunk.length;
    for (;;) {
      if (this.need < 0) {
        if (this.have < FRAME_HEADER_BYTES) return;
        const head = this.consume(FRAME_HEADER_BYTES);
        const len = new DataView(head.buffer).getUint32(0, true);
        const type = head[4]!;
        if (len > MAX_FRAME_BODY || !TYPES.has(type)) {
          this.end(vbusError('EPROTO', `${this.peer} sent a malformed migration frame (type ${type}, ${len} bytes; at most ${MAX_FRAME_BODY})`, { peer: this.peer }));
          this.socket.destroy();
          return;
        }
        this.need = len;
        this.needType = type as FrameType;
      }
      if (this.have < this.need) return;
      const fr = { type: this.needType, body: this.consume(this.need) };
      this.need = -1;
      const w = this.waiter;
      if (w) { this.waiter = null; w.resolve(fr); } else this.frames.push(fr);
    }
  }

  private chunks: Buffer[] = [];
  private have = 0;
  /** Body length of the frame being read, or -1 while its header is still to come. */
  private need = -1;
  private needType: FrameType = FRAME.HELLO;

  private consume(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - at);
      out.set(k === c.length ? c : c.subarray(0, k), at);
      at += k;
      if (k === c.length) this.chunks.shift(); else this.chunks[0] = c.subarray(k);
    }
    this.have -= n;
    return out;
  }

  private end(e: VbusError): void {
    if (this.ended) return;
    this.ended = e;
    const w = this.waiter;
    this.waiter = null;
    w?.reject(e);
  }
}

/** Parses a JSON frame body; EPROTO naming `what` if it is not JSON. */
export function readJson<T>(f: Frame, what: string, peer: string): T {
  try {
    return JSON.parse(new TextDecoder().decode(f.body)) as T;
  } catch {
    throw vbusError('EPROTO', `${peer} sent a ${what} frame that is not JSON`, { peer });
  }
}

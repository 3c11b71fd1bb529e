/**
 * Console endpoints on Node (installed by src/index.ts; browsers have only `memory`):
 *
 *   stdio              input from process.stdin, output to process.stdout
 *   pipe:<path>        QEMU's convention: if <path>.in and <path>.out exist, input is read
 *                      from <path>.in and output written to <path>.out; otherwise output
 *                      goes to <path> (a FIFO, or a file appended to) and there is no input.
 *                      FIFOs are opened read-write and non-blocking (Linux), so opening
 *                      never waits for the other side and the stream runs on the event
 *                      loop, not in the file-system thread pool.
 *   tcp:<host>:<port>  a TCP connection to host:port (input is what the peer sends)
 *   pty[:<link>]       a pseudo-terminal in raw mode, made by socat (Node has no pty API
 *                      without a native addon); <link> becomes a symlink to its slave
 *                      device (e.g. for `screen <link>`). Bare `pty` picks a link in the
 *                      temporary directory and stores it in the attribute.
 *
 * Every kind is a pair of Node streams behind the same flow control: `write` returns
 * the stream's own back-pressure verdict and 'drain' resumes the model; `pause`/`resume`
 * stop and restart the input stream.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { vbusError } from '../errors.js';
import type { ConsoleEndpoint, EndpointSink } from '../devices/vconsole/endpoint.js';

export const NODE_CONSOLE_KINDS = ['stdio', 'pipe:<path>', 'tcp:<host>:<port>', 'pty[:<link>]'];

/** Validates and normalises a Node endpoint spec; undefined if it is not a Node kind. Throws EINVAL/ENOENT/ENOTSUP. */
export function checkNodeEndpoint(spec: string): string | undefined {
  if (spec === 'stdio') return spec;
  if (spec === 'pty' || spec.startsWith('pty:')) {
    if (!onPath('socat')) {
      throw vbusError('ENOTSUP', `console endpoint "${spec}" needs socat on the PATH (Node has no pseudo-terminal API without a native addon); use stdio, pipe:<path> or tcp:<host>:<port>`, { endpoint: spec });
    }
    const link = spec === 'pty' ? join(tmpdir(), `vbus-pty-${process.pid}-${++ptyCount}`) : spec.slice(4);
    if (link === '' || /[,!]/.test(link)) throw vbusError('EINVAL', `console endpoint "${spec}": the link path must be non-empty and free of ',' and '!' (socat syntax)`, { endpoint: spec });
    if (!fs.existsSync(dirOf(link))) throw vbusError('ENOENT', `console endpoint ${spec}: directory ${dirOf(link)} does not exist`, { endpoint: spec, path: link });
    return `pty:${link}`;
  }
  if (spec.startsWith('pipe:')) {
    const path = spec.slice(5);
    if (path === '') throw vbusError('EINVAL', 'console endpoint "pipe:" needs a path (pipe:<path>)', { endpoint: spec });
    const split = fs.existsSync(`${path}.in`) && fs.existsSync(`${path}.out`);
    if (!split && !fs.existsSync(path) && !fs.existsSync(dirOf(path))) {
      throw vbusError('ENOENT', `console endpoint ${spec}: neither ${path}.in/${path}.out nor the directory of ${path} exist`, { endpoint: spec, path });
    }
    return spec;
  }
  if (spec.startsWith('tcp:')) {
    const m = /^tcp:(.+):(\d{1,5})$/.exec(spec);
    const port = m ? Number(m[2]) : NaN;
    if (!m || port < 1 || port > 65535) {
      throw vbusError('EINVAL', `console endpoint "${spec}" must be tcp:<host>:<port> with a port from 1 to 65535`, { endpoint: spec });
    }
    return spec;
  }
  return undefined;
}

/** Opens a Node endpoint (spec already checked); undefined for kinds it does not know. */
export function openNodeEndpoint(spec: string, sink: EndpointSink): ConsoleEndpoint | undefined {
  if (spec === 'stdio') {
    // Never end the process's own stdout: close() only detaches.
    return new StreamEndpoint(spec, sink, process.stdin, process.stdout, { endOutput: false, destroyInput: false });
  }
  if (spec.startsWith('pipe:')) {
    const path = spec.slice(5);
    if (fs.existsSync(`${path}.in`) && fs.existsSync(`${path}.out`)) {
      return new StreamEndpoint(spec, sink, openInput(`${path}.in`), openOutput(`${path}.out`));
    }
    return new StreamEndpoint(spec, sink, null, openOutput(path));
  }
  if (spec.startsWith('pty:')) {
    // socat bridges its stdio to a new pty's master side; the slave is reachable at the link.
    const child = spawn('socat', [`PTY,link=${spec.slice(4)},rawer`, 'STDIO'], { stdio: ['pipe', 'pipe', 'ignore'] });
    return new StreamEndpoint(spec, sink, child.stdout, child.stdin, {}, child);
  }
  if (spec.startsWith('tcp:')) {
    const at = spec.lastIndexOf(':');
    const sock = net.connect({ host: spec.slice(4, at), port: Number(spec.slice(at + 1)) });
    sock.setNoDelay(true);
    return new StreamEndpoint(spec, sink, sock, sock);
  }
  return undefined;
}

let ptyCount = 0;

function onPath(cmd: string): boolean {
  return (process.env['PATH'] ?? '').split(':').some((d) => d !== '' && fs.existsSync(join(d, cmd)));
}

function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? (i === 0 ? '/' : '.') : path.slice(0, i);
}

function isFifo(path: string): boolean {
  try { return fs.statSync(path).isFIFO(); } catch { return false; }
}

/** A FIFO as a non-blocking pipe handle on the event loop; a regular file as a file stream. */
function openInput(path: string): Readable {
  if (isFifo(path)) {
    const fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
    return new net.Socket({ fd, readable: true, writable: false });
  }
  return fs.createReadStream(path);
}

function openOutput(path: string): Writable {
  if (isFifo(path)) {
    const fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
    return new net.Socket({ fd, readable: false, writable: true });
  }
  return fs.createWriteStream(path, { flags: 'a' });
}

/** A console endpoint over a Node input stream and output stream (either may be absent). */
class StreamEndpoint implements ConsoleEndpoint {
  private closed = false;
  private readonly detach: Array<() => void> = [];

  constructor(
    readonly spec: string,
    private readonly sink: EndpointSink,
    private readonly input: Readable | null,
    private readonly output: Writable | null,
    private readonly opts: { endOutput?: boolean; destroyInput?: boolean } = {},
    private readonly child?: ChildProcess,
  ) {
    const on = (s: NodeJS.EventEmitter, ev: string, fn: (...a: any[]) => void): void => {
      s.on(ev, fn);
      this.detach.push(() => s.off(ev, fn));
    };
    if (input) {
      on(input, 'data', (c: Buffer) => { if (!this.closed) sink.input(new Uint8Array(c.buffer, c.byteOffset, c.length)); });
      on(input, 'end', () => { if (!this.closed) sink.inputEnd(); });
      on(input, 'error', (e: Error) => this.fail(e));
    }
    if (child) {
      on(child, 'error', (e: Error) => this.fail(e)); // e.g. the program could not be started
      on(child, 'exit', (code: number | null) => { if (code) this.fail(new Error(`${child.spawnfile} exited with status ${code}`)); });
    }
    if (output) {
      on(output, 'drain', () => { if (!this.closed) sink.drained(); });
      if ((output as unknown) !== input) on(output, 'error', (e: Error) => this.fail(e));
    }
  }

  write(chunk: Uint8Array): boolean {
    if (!this.output || this.closed) return true; // no output side: nothing to hold the guest back for
    return this.output.write(chunk);
  }

  pause(): void { this.input?.pause(); }
  resume(): void { if (!this.closed) this.input?.resume(); }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const d of this.detach) d();
    this.detach.length = 0;
    if (this.input && (this.input as unknown) === this.output) {
      (this.input as net.Socket).end(); // a socket: flush what the guest wrote, then half-close
    } else {
      if (this.input) {
        if (this.opts.destroyInput === false) this.input.pause();
        else this.input.destroy();
      }
      if (this.output && this.opts.endOutput !== false) this.output.end();
    }
    this.child?.kill();
    // swallow late errors from streams we no longer listen to
    this.input?.on('error', () => undefined);
    this.output?.on('error', () => undefined);
  }

  private fail(e: Error): void {
    if (this.closed) return;
    this.sink.failed(vbusError('EIO', `console endpoint ${this.spec}: ${e.message}`, { endpoint: this.spec }));
  }
}

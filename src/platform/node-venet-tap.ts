/**
 * venet-tap's sockets on Node (installed by src/index.ts through the registry in
 * src/devices/venet/tap-transport.ts): UDP with one Ethernet frame per datagram (QEMU's
 * `-netdev dgram`, `socat UDP:`), and TCP or Unix streams with QEMU's `-netdev stream`
 * framing (4-byte big-endian length before each frame).
 *
 * Every callback runs on the host's event loop; after `close()` none reports anything.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { ERRNO, vbusError, type ErrnoCode, type VbusError } from '../errors.js';
import { ETH_HEADER_BYTES, VENET_MAX_MTU } from '../devices/venet/abi.js';
import { StreamFrameDecoder, STREAM_PREFIX_BYTES, writeStreamPrefix } from '../devices/venet/stream-framing.js';
import { formatTapEndpoint, type TapEndpoint } from '../devices/venet/tap-endpoint.js';
import {
  TAP_BUSY, TAP_LOST, TAP_SENT, type TapTransport, type TapTransportEvents, type TapTransportFactory,
} from '../devices/venet/tap-transport.js';

/** Largest frame accepted from a stream (the largest a venet MTU allows). */
const MAX_WIRE_FRAME = VENET_MAX_MTU + ETH_HEADER_BYTES;
/** Bytes queued on a stream socket above which `send` answers TAP_BUSY (frames wait in the guest's ring). */
const STREAM_HIGH_WATER = 1 << 20;
/** Datagrams queued in a UDP socket above which `send` drops (as a full NIC queue would). */
const UDP_QUEUE_LIMIT = 4096;

/** A Node socket error as a VbusError naming the endpoint. */
function socketError(err: NodeJS.ErrnoException, what: string, endpoint: string): VbusError {
  const code = (err.code && err.code in ERRNO ? err.code : 'EIO') as ErrnoCode;
  return vbusError(code, `venet-tap ${what} ${endpoint}: ${err.message}`, { endpoint, cause: err.code ?? String(err) });
}

function hostText(host: string): string { return host.includes(':') ? `[${host}]` : host; }

class UdpTap implements TapTransport {
  private readonly sock: dgram.Socket;
  private peer: { host: string; port: number } | null = null;
  private closed = false;
  private bound = '';

  constructor(private readonly ep: Extract<TapEndpoint, { kind: 'udp' }>, ev: TapTransportEvents) {
    this.sock = dgram.createSocket({ type: ep.host.includes(':') ? 'udp6' : 'udp4' });
    this.sock.on('error', (e) => { if (!this.closed) ev.error(socketError(e, 'cannot use', this.address)); });
    this.sock.on('message', (msg, rinfo) => {
      if (this.closed) return;
      // A connected socket (fixed peer) only receives from its peer (the kernel filters);
      // otherwise the peer is whoever spoke last, as with QEMU's dgram without `remote`.
      if (!ep.peer) this.peer = { host: rinfo.address, port: rinfo.port };
      ev.frame(msg, 0, msg.length);
      ev.flush();
    });
    this.sock.on('listening', () => {
      if (this.closed) return;
      const a = this.sock.address();
      this.bound = `udp:${hostText(a.address)}:${a.port}`;
      if (!ep.peer) { ev.ready(this.address); ev.carrier(true, this.address); return; }
      this.sock.connect(ep.peer.port, ep.peer.host, () => {
        if (this.closed) return;
        this.peer = ep.peer;
        ev.ready(this.address);
        ev.carrier(true, this.address);
      });
    });
    this.sock.bind(ep.port, ep.host);
  }

  get address(): string {
    if (!this.bound) return formatTapEndpoint(this.ep);
    return this.ep.peer ? `${this.bound},peer=${hostText(this.ep.peer.host)}:${this.ep.peer.port}` : this.bound;
  }

  send(data: Uint8Array, at: number, len: number): number {
    const peer = this.peer;
    if (this.closed || !peer) return TAP_LOST;
    if (this.sock.getSendQueueCount() > UDP_QUEUE_LIMIT) return TAP_LOST;
    const buf = Buffer.allocUnsafe(len);
    buf.set(data.subarray(at, at + len)); // a copy: the ring slot is released after this returns
    if (this.ep.peer) this.sock.send(buf);
    else this.sock.send(buf, peer.port, peer.host);
    return TAP_SENT;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try { this.sock.close(); } catch { /* not bound yet, or already closed */ }
  }
}

class StreamTap implements TapTransport {
  private server: net.Server | null = null;
  private sock: net.Socket | null = null;
  private decoder = new StreamFrameDecoder(MAX_WIRE_FRAME);
  private closed = false;
  private listening = '';
  private wantDrain = false;

  constructor(private readonly ep: Extract<TapEndpoint, { kind: 'stream-tcp' | 'stream-unix' }>, private readonly ev: TapTransportEvents) {
    if (ep.listen) this.listen();
    else this.connect();
  }

  get address(): string { return this.listening || formatTapEndpoint(this.ep); }

  private listen(): void {
    const ep = this.ep;
    const server = net.createServer((s) => this.accept(s));
    this.server = server;
    server.on('error', (e) => { if (!this.closed) this.ev.error(socketError(e, 'cannot listen on', this.address)); });
    const onListening = (): void => {
      if (this.closed) return;
      if (ep.kind === 'stream-tcp') {
        const a = server.address() as net.AddressInfo;
        this.listening = `stream-tcp:${hostText(a.address)}:${a.port},listen`;
      } else {
        this.listening = formatTapEndpoint(ep);
      }
      this.ev.ready(this.address); // carrier waits for a peer
    };
    if (ep.kind === 'stream-tcp') server.listen({ port: ep.port, host: ep.host }, onListening);
    else server.listen({ path: ep.path }, onListening);
  }

  private accept(s: net.Socket): void {
    if (this.closed || this.sock) { s.destroy(); this.ev.rejected(); return; } // one peer at a time, as QEMU
    this.attach(s);
    this.ev.carrier(true, this.address);
  }

  private connect(): void {
    const ep = this.ep;
    const s = ep.kind === 'stream-tcp' ? net.connect({ port: ep.port, host: ep.host }) : net.connect({ path: ep.path });
    let connected = false;
    s.once('connect', () => {
      if (this.closed) return;
      connected = true;
      this.ev.ready(this.address);
      this.ev.carrier(true, this.address);
    });
    s.once('error', (e) => {
      if (this.closed) return;
      // Connect mode does not retry: the admin re-enables the tap to connect again.
      this.ev.error(socketError(e, connected ? 'lost its connection to' : 'cannot connect to', this.address));
    });
    this.attach(s);
  }

  /** Wires a connected socket: decode frames in, drain notices, carrier down when it ends. */
  private attach(s: net.Socket): void {
    this.sock = s;
    this.decoder = new StreamFrameDecoder(MAX_WIRE_FRAME);
    s.setNoDelay(true);
    s.on('data', (chunk: Buffer) => {
      if (this.closed || this.sock !== s) return;
      const ok = this.decoder.push(chunk, this.ev.frame);
      this.ev.flush();
      if (!ok) { this.ev.rejected(); s.destroy(); } // not this framing: drop the peer
    });
    s.on('drain', () => {
      if (this.closed || this.sock !== s || !this.wantDrain) return;
      this.wantDrain = false;
      this.ev.writable();
    });
    s.on('error', () => { /* reported by connect's handler, or ends in 'close' */ });
    s.on('close', () => {
      if (this.closed || this.sock !== s) return;
      this.sock = null;
      this.wantDrain = false;
      this.ev.carrier(false, this.address);
      if (!this.ep.listen) this.ev.error(vbusError('ECONNRESET', `venet-tap lost its connection to ${this.address}`, { endpoint: this.address }));
    });
  }

  send(data: Uint8Array, at: number, len: number): number {
    const s = this.sock;
    if (this.closed || !s || s.connecting || s.destroyed) return TAP_LOST;
    if (s.writableLength > STREAM_HIGH_WATER) { this.wantDrain = true; return TAP_BUSY; }
    const buf = Buffer.allocUnsafe(STREAM_PREFIX_BYTES + len);
    writeStreamPrefix(buf, 0, len);
    buf.set(data.subarray(at, at + len), STREAM_PREFIX_BYTES); // a copy: the ring slot is released after this returns
    s.write(buf);
    return TAP_SENT;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock?.destroy();
    this.sock = null;
    this.server?.close();
    this.server = null;
  }
}

/** Opens venet-tap sockets with node:dgram and node:net. */
export const createNodeTapTransport: TapTransportFactory = (ep, events) =>
  ep.kind === 'udp' ? new UdpTap(ep, events) : new StreamTap(ep, events);

// Shared setup for the venet-tap tests: a host with a venet-tap on one bus, and a guest
// (test/fixtures/guest-venet-responder.mjs, the real guest driver) that owns an IPv4
// address on it. Plus the socat-only exchange, used on its own and as the fallback when
// this machine refuses TAP interfaces or namespaces.
import { createSocket, type Socket } from 'node:dgram';
import { VbusHost, registerVenetClasses, venetTap, type Bus, type Device, type VenetTapControl } from '../../dist/src/index.js';
import { drive, type Scripted } from './scripted.js';
import { startSocat, type Socat } from './tap-peer.js';
import { arpRequest, checkArpReply, checkEchoReply, echoRequest, macBytes } from './wire-host.js';
import { Prng } from '../fixtures/prng.mjs';
import { adminView } from '../../dist/src/index.js';

export const RESPONDER_URL = new URL('../fixtures/guest-venet-responder.mjs', import.meta.url);

export interface TapRig {
  host: VbusHost;
  bus: Bus;
  dev: Device;
  tap: VenetTapControl;
  /** The bound endpoint (`ifname`) once enabled. */
  endpoint: string;
  release(): Promise<void>;
}

/** A host with venet-tap `name` on bus `busName`, `ifname` set to `endpoint`, enabled and open. */
export async function tapRig(endpoint: string, name = 'tap0', busName = 'tapbus'): Promise<TapRig> {
  const host = new VbusHost();
  registerVenetClasses(host);
  const bus = host.createBus(busName, { memoryBytes: 4 << 20 });
  const dev = host.createDevice(name);
  host.setType(dev, 'venet-tap');
  adminView(host).write(`/config/vbus/devices/${name}/ifname`, `${endpoint}\n`);
  adminView(host).write(`/config/vbus/devices/${name}/enabled`, '1\n');
  const tap = venetTap(dev);
  const bound = await tap.whenOpen(20_000);
  host.link(bus, dev);
  let released = false;
  return {
    host, bus, dev, tap, endpoint: bound,
    async release() {
      if (released) return;
      released = true;
      await host.connector.release();
      host.release();
    },
  };
}

/** Spawns the responder guest on the rig's bus with address `ip`; waits for it to open the tap. */
export async function responderGuest(rig: TapRig, ip: string): Promise<Scripted & { mac: string; link: boolean }> {
  const g = drive(rig.host.spawnGuest(rig.bus, RESPONDER_URL));
  await g.waitEvent((e) => e.event === 'ready');
  const r = await g.cmd('open', { dev: 0, ip });
  if (!r.ok) throw new Error(`open failed: ${r.error} ${r.message}`);
  return Object.assign(g, { mac: r.mac as string, link: r.link as boolean });
}

/** The port of a `udp:HOST:PORT` endpoint text. */
export function udpPort(endpoint: string): number {
  const m = /^udp:[^,]*:(\d+)(,|$)/.exec(endpoint);
  if (!m) throw new Error(`not a udp endpoint: ${endpoint}`);
  return Number(m[1]);
}

/** A UDP socket on 127.0.0.1 whose received datagrams are queued for the test. */
export async function udpEnd(): Promise<{ sock: Socket; port: number; next(timeoutMs?: number): Promise<Uint8Array>; close(): void }> {
  const sock = createSocket('udp4');
  const queue: Uint8Array[] = [];
  let wake: (() => void) | null = null;
  sock.on('message', (m) => { queue.push(new Uint8Array(m)); wake?.(); });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return {
    sock,
    port: sock.address().port,
    async next(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (queue.length === 0) {
        if (Date.now() > deadline) throw new Error(`no datagram in ${timeoutMs} ms`);
        await new Promise<void>((r) => { wake = r; setTimeout(r, 50); });
        wake = null;
      }
      return queue.shift()!;
    },
    close() { sock.close(); },
  };
}

/**
 * The socat-only path: socat relays UDP datagrams between the tap's port and a socket
 * the test owns (`socat UDP-DATAGRAM:tap UDP-DATAGRAM:test`); the test plays the far
 * host: ARP for the guest's address, then `pings` ICMP echo requests with seeded data,
 * checking every reply field by field. Returns what was exchanged.
 */
export async function socatUdpExchange(rig: TapRig, guestIp: string, peerIp: string, pings: number): Promise<{ arpMac: string; replies: number; socatLog: string }> {
  const end = await udpEnd();
  let socat: Socat | undefined;
  try {
    socat = startSocat(`UDP-DATAGRAM:127.0.0.1:${udpPort(rig.endpoint)},bind=127.0.0.1:0`, `UDP-DATAGRAM:127.0.0.1:${end.port},bind=127.0.0.1:0`);
    // socat -d -d names the two local ports it bound, in address order: tap side, test side.
    await socat.waitLog(/prepared local socket AF=2 127\.0\.0\.1:\d+[\s\S]*prepared local socket AF=2 127\.0\.0\.1:\d+/);
    const ports = [...socat.log().matchAll(/prepared local socket AF=2 127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
    const relay = ports[1]!;
    const send = (f: Uint8Array): Promise<void> => new Promise((r, j) => end.sock.send(f, relay, '127.0.0.1', (e) => (e ? j(e) : r())));

    await send(arpRequest(peerIp, guestIp));
    let reply = await end.next();
    while (reply[12] !== 0x08 || reply[13] !== 0x06) reply = await end.next(); // skip anything else the guest sent
    const arpMac = checkArpReply(reply, peerIp, guestIp);

    const prng = new Prng(0x7a9);
    const id = 0x4242;
    let replies = 0;
    for (let seq = 1; seq <= pings; seq++) {
      const data = new Uint8Array(56);
      prng.fill(data, 0, data.length);
      await send(echoRequest(peerIp, guestIp, macBytes(arpMac), id, seq, data));
      let r = await end.next();
      while (r[12] !== 0x08 || r[13] !== 0x00) r = await end.next();
      checkEchoReply(r, peerIp, guestIp, id, seq, data);
      replies++;
    }
    return { arpMac, replies, socatLog: socat.log() };
  } finally {
    await socat?.stop();
    end.close();
  }
}

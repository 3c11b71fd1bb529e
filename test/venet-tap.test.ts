// venet-tap: endpoints, the QEMU stream framing, the admin surface (the original's four
// attributes; `ifname` reports the endpoint), and frames through the real guest driver
// to peers over UDP (node:dgram and socat), Unix and TCP streams (node:net and socat).
import { createServer, connect, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  VbusError, VbusHost, StreamFrameDecoder, formatTapEndpoint, parseTapEndpoint, registerVenetClasses,
  installTapTransport, tapTransport, venetTap, VENET_F_ALL, VENET_F_TX_DONE,
} from '../dist/src/internal.js';
import { Prng } from './fixtures/prng.mjs';
import { inetChecksum } from './fixtures/net-responder.mjs';
import { eventually, startSocat, type Socat } from './helpers/tap-peer.js';
import { responderGuest, socatUdpExchange, tapRig, udpEnd, udpPort, type TapRig } from './helpers/tap-scenarios.js';
import { adminView } from '../dist/src/internal.js';

const rigs: TapRig[] = [];
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  for (const r of rigs.splice(0)) await r.release();
});
async function rig(endpoint: string): Promise<TapRig> { const r = await tapRig(endpoint); rigs.push(r); return r; }

function thrown(fn: () => unknown): VbusError {
  try { fn(); } catch (e) { if (e instanceof VbusError) return e; throw e; }
  throw new Error('expected a VbusError');
}

/** A seeded frame: dst, src, ethertype 0x88b5, payload. */
function frame(dst: string, src: string, len: number, seed: number): Uint8Array {
  const f = new Uint8Array(len);
  f.set(dst.split(':').map((h) => parseInt(h, 16)), 0);
  f.set(src.split(':').map((h) => parseInt(h, 16)), 6);
  f[12] = 0x88; f[13] = 0xb5;
  new Prng(seed).fill(f, 14, len - 14);
  return f;
}
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const PEER = '02:aa:bb:cc:dd:01';
const GUEST = '02:00:00:00:00:01';

/** Independent reader of the 4-byte big-endian length framing (not the runtime's decoder). */
function frameReader(sock: Socket): { next(timeoutMs?: number): Promise<Uint8Array> } {
  let buf = Buffer.alloc(0);
  const frames: Uint8Array[] = [];
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
      const n = buf.readUInt32BE(0);
      frames.push(new Uint8Array(buf.subarray(4, 4 + n)));
      buf = buf.subarray(4 + n);
    }
  });
  return {
    async next(timeoutMs = 20_000) {
      await eventually(() => frames.length > 0, timeoutMs);
      return frames.shift()!;
    },
  };
}
function framed(f: Uint8Array): Buffer {
  const b = Buffer.alloc(4 + f.length);
  b.writeUInt32BE(f.length, 0);
  b.set(f, 4);
  return b;
}

describe('venet-tap endpoints and framing', () => {
  it('parses and formats every endpoint form; refuses malformed ones with EINVAL naming the text', () => {
    for (const t of ['udp:127.0.0.1:0', 'udp:127.0.0.1:4000,peer=127.0.0.1:4001', 'udp:[::1]:0', 'stream-tcp:127.0.0.1:5555',
      'stream-tcp:127.0.0.1:0,listen', 'stream-unix:/tmp/x.sock', 'stream-unix:/tmp/x.sock,listen']) {
      expect(formatTapEndpoint(parseTapEndpoint(t))).toBe(t);
    }
    expect(parseTapEndpoint(' udp:localhost:9 ')).toEqual({ kind: 'udp', host: 'localhost', port: 9, peer: null });
    for (const t of ['', 'udp', 'udp:127.0.0.1', 'udp:127.0.0.1:70000', 'udp:127.0.0.1:1,peer=127.0.0.1:0', 'udp:127.0.0.1:1,bogus',
      'stream-tcp:127.0.0.1:0', 'stream-unix:relative.sock', `stream-unix:/${'x'.repeat(120)}`, 'tap:eth0', 'stream-unix:/a,listen,listen']) {
      const e = thrown(() => parseTapEndpoint(t));
      expect(e.code).toBe('EINVAL');
      expect(e.message).toContain(JSON.stringify(t.trim()));
    }
  });

  it('the stream decoder reassembles frames from chunks split anywhere (seeded), and breaks on an oversize length', () => {
    const prng = new Prng(2024);
    const frames = Array.from({ length: 300 }, (_, i) => { const f = new Uint8Array(prng.range(0, 1600)); prng.fill(f, 0, f.length); return i % 50 === 0 ? new Uint8Array(0) : f; });
    const stream = Buffer.concat(frames.map(framed));
    for (let round = 0; round < 20; round++) {
      const d = new StreamFrameDecoder(65535);
      const got: string[] = [];
      for (let at = 0; at < stream.length;) {
        const n = Math.min(stream.length - at, round === 0 ? 1 : prng.range(1, 3000));
        expect(d.push(stream.subarray(at, at + n), (b, o, l) => got.push(hex(b.subarray(o, o + l))))).toBe(true);
        at += n;
      }
      expect(got).toEqual(frames.map(hex));
      expect(d.pending).toBe(0);
    }
    const d = new StreamFrameDecoder(1514);
    expect(d.push(framed(new Uint8Array(1515)), () => { throw new Error('no frame expected'); })).toBe(false);
    expect(d.isBroken).toBe(true);
  });

  it('the responder\'s checksum matches the RFC 1071 / IPv4 header example', () => {
    const h = Uint8Array.from(Buffer.from('450000730000400040110000c0a80001c0a800c7', 'hex'));
    expect(inetChecksum(h, 0, 20)).toBe(0xb861);
    h[10] = 0xb8; h[11] = 0x61;
    expect(inetChecksum(h, 0, 20)).toBe(0);
  });
});

describe('venet-tap admin surface', () => {
  it('a fresh device has exactly client_mac, enabled (0), host_mac, ifname; the original setup script reads the bound endpoint', async () => {
    const host = new VbusHost();
    registerVenetClasses(host);
    cleanups.push(() => host.release());
    const admin = adminView(host);
    admin.mkdir('/config/vbus/devices/client-dev');
    admin.write('/config/vbus/devices/client-dev/type', 'venet-tap\n');
    expect(admin.tree('/sys/vbus/devices/client-dev').split('\n').slice(1, -1)).toEqual([
      '|-- class -> ../../deviceclass/venet-tap', '|-- client_mac', '|-- enabled', '|-- host_mac', '|-- ifname', '`-- interfaces']);
    expect(admin.read('/sys/vbus/devices/client-dev/enabled')).toBe('0\n');
    // echo 1 > enabled ; ifname=$(cat ifname)
    admin.write('/sys/vbus/devices/client-dev/enabled', '1\n');
    const dev = host.device('client-dev')!;
    const bound = await venetTap(dev).whenOpen();
    expect(bound).toMatch(/^udp:127\.0\.0\.1:[1-9]\d*$/);
    expect(admin.read('/sys/vbus/devices/client-dev/ifname')).toBe(`${bound}\n`);
    // changing the endpoint while enabled is refused and changes nothing
    const e = thrown(() => admin.write('/config/vbus/devices/client-dev/ifname', 'udp:127.0.0.1:0\n'));
    expect(e.code).toBe('EBUSY');
    expect(admin.read('/sys/vbus/devices/client-dev/ifname')).toBe(`${bound}\n`);
    admin.write('/sys/vbus/devices/client-dev/enabled', '0\n');
    expect(admin.read('/sys/vbus/devices/client-dev/ifname')).toBe('udp:127.0.0.1:0\n');
    expect(thrown(() => admin.write('/config/vbus/devices/client-dev/ifname', 'udp:nowhere\n')).code).toBe('EINVAL');
    admin.write('/config/vbus/devices/client-dev/ifname', 'stream-unix:/tmp/vbus-never.sock\n');
    expect(admin.read('/sys/vbus/devices/client-dev/ifname')).toBe('stream-unix:/tmp/vbus-never.sock\n');
    admin.write('/config/vbus/devices/client-dev/enabled', '1\n');
    await expect(venetTap(dev).whenOpen()).rejects.toMatchObject({ code: 'ENOENT' }); // nobody listens there
    expect(venetTap(dev).linkUp).toBe(false);
  });

  it('a port in use fails with EADDRINUSE; the typed API caps features (no csum) and reports counters', async () => {
    const a = await rig('udp:127.0.0.1:0');
    const host = new VbusHost();
    registerVenetClasses(host);
    cleanups.push(() => host.release());
    const dev = host.createDevice('t2');
    host.setType(dev, 'venet-tap');
    dev.setAttr('ifname', a.endpoint);
    dev.setAttr('enabled', '1');
    await expect(venetTap(dev).whenOpen()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(venetTap(dev).lastError).toBeInstanceOf(VbusError);

    expect(a.tap.featuresCap).toBe('tx_done');
    expect(thrown(() => a.tap.setFeaturesCap('csum,tx_done')).code).toBe('ENOTSUP');
    const g = await responderGuest(a, '10.0.0.2');
    expect((await g.cmd('negotiate', { features: VENET_F_ALL })).negotiated).toBe(VENET_F_TX_DONE);
    expect(a.tap.negotiated).toBe('tx_done');
    a.tap.setFeaturesCap('none');
    expect((await g.cmd('negotiate', { features: VENET_F_ALL })).negotiated).toBe(0);
    expect(thrown(() => a.tap.setMtu(10)).code).toBe('EINVAL');
    a.tap.setMtu(9000);
    expect(a.tap.mtu).toBe(9000);
    expect(a.tap.counters()).toEqual({ rx_frames: 0, rx_bytes: 0, tx_frames: 0, tx_bytes: 0, drops: 0, faults: 0 });
  });

  it('without a socket platform (as in a browser) typing a venet-tap fails with ENOTSUP saying why, changing nothing', () => {
    const saved = tapTransport();
    installTapTransport(undefined);
    try {
      const host = new VbusHost();
      registerVenetClasses(host);
      const dev = host.createDevice('t');
      const e = thrown(() => host.setType(dev, 'venet-tap'));
      expect(e.code).toBe('ENOTSUP');
      expect(e.message).toMatch(/node:dgram.*browser/);
      expect(dev.deviceClass).toBeNull();
      host.release();
    } finally {
      installTapTransport(saved);
    }
  });
});

describe('venet-tap frames through the guest driver', () => {
  it('UDP with a node:dgram peer: byte-exact both ways, runts and oversize from the wire dropped and counted', async () => {
    const r = await rig('udp:127.0.0.1:0');
    const g = await responderGuest(r, '10.0.0.2');
    const peer = await udpEnd();
    cleanups.push(() => peer.close());
    const tapPort = udpPort(r.endpoint);
    const toTap = (b: Uint8Array): Promise<void> => new Promise((res, rej) => peer.sock.send(b, tapPort, '127.0.0.1', (e) => (e ? rej(e) : res())));
    // wire -> guest (the tap learns its peer from these)
    const inbound = [14, 60, 1514, 700].map((len, i) => frame(GUEST, PEER, len, 10 + i));
    for (const f of inbound) await toTap(f);
    const got = await g.cmd('inbox', { atLeast: inbound.length, ethertype: 0x88b5 });
    expect(got.frames).toEqual(inbound.map(hex));
    // guest -> wire
    const outbound = [14, 64, 1514, 333].map((len, i) => frame(PEER, GUEST, len, 20 + i));
    expect((await g.cmd('send', { frames: outbound.map(hex) })).sent).toBe(outbound.length);
    for (const f of outbound) expect(hex(await peer.next())).toBe(hex(f));
    // a runt and an oversize datagram are dropped, not delivered
    await toTap(new Uint8Array(13));
    await toTap(frame(GUEST, PEER, 1515, 99));
    await eventually(() => r.tap.counters().drops === 2);
    const c = r.tap.counters();
    expect(c).toMatchObject({ rx_frames: 4, tx_frames: 4, faults: 0 });
    expect(c.rx_bytes).toBe(14 + 64 + 1514 + 333);
    expect(c.tx_bytes).toBe(14 + 60 + 1514 + 700);
    expect((await g.cmd('inbox', { atLeast: 0, timeoutMs: 50 })).frames).toEqual([]);
  });

  it('socat relays the tap\'s UDP datagrams to a socket the test owns: ARP and five ICMP echoes answered, checked field by field', async () => {
    const r = await rig('udp:127.0.0.1:0');
    const g = await responderGuest(r, '10.0.7.2');
    const x = await socatUdpExchange(r, '10.0.7.2', '10.0.7.1', 5);
    expect(x.arpMac).toBe(g.mac);
    expect(x.replies).toBe(5);
    expect((await g.cmd('stats')).echo).toBe(5);
  });

  it('stream-unix listen with a node:net peer: QEMU framing both ways, one byte per write; a bad length drops the peer; a new peer is served', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vbus-tap-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'tap.sock');
    const r = await rig(`stream-unix:${path},listen`);
    expect(r.endpoint).toBe(`stream-unix:${path},listen`);
    const g = await responderGuest(r, '10.0.0.2');
    expect(g.link).toBe(false); // no peer yet: no carrier
    const peer = connect({ path });
    cleanups.push(() => peer.destroy());
    const reader = frameReader(peer);
    expect((await g.cmd('waitLink', { up: true })).ok).toBe(true);
    const inbound = [60, 1514, 14].map((len, i) => frame(GUEST, PEER, len, 30 + i));
    const bytes = Buffer.concat(inbound.map(framed));
    for (let i = 0; i < bytes.length; i += 1) peer.write(bytes.subarray(i, i + 1)); // split everywhere
    expect((await g.cmd('inbox', { atLeast: 3, ethertype: 0x88b5 })).frames).toEqual(inbound.map(hex));
    const outbound = [100, 1514].map((len, i) => frame(PEER, GUEST, len, 40 + i));
    expect((await g.cmd('send', { frames: outbound.map(hex) })).sent).toBe(2);
    for (const f of outbound) expect(hex(await reader.next())).toBe(hex(f));
    // a length no venet frame can have: the tap drops this peer (carrier down), keeps listening
    const drops = r.tap.counters().drops;
    peer.write(Buffer.from([0x7f, 0xff, 0xff, 0xff]));
    expect((await g.cmd('waitLink', { up: false })).ok).toBe(true);
    expect(r.tap.counters().drops).toBe(drops + 1);
    const peer2 = connect({ path });
    cleanups.push(() => peer2.destroy());
    expect((await g.cmd('waitLink', { up: true })).ok).toBe(true);
    const f2 = frame(GUEST, PEER, 200, 50);
    peer2.write(framed(f2));
    expect((await g.cmd('inbox', { atLeast: 1, ethertype: 0x88b5 })).frames).toEqual([hex(f2)]);
  });

  it('stream-tcp connect to a node:net server, and QEMU framing carried through socat (UNIX-LISTEN <-> TCP)', async () => {
    const frames: Array<{ sock: Socket; reader: ReturnType<typeof frameReader> }> = [];
    const server: Server = createServer((s) => frames.push({ sock: s, reader: frameReader(s) }));
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
    cleanups.push(() => { for (const f of frames) f.sock.destroy(); return new Promise((res) => server.close(() => res(undefined))); });
    const port = (server.address() as { port: number }).port;

    // direct: the tap connects to the test's server
    const r = await rig(`stream-tcp:127.0.0.1:${port}`);
    expect(r.endpoint).toBe(`stream-tcp:127.0.0.1:${port}`);
    const g = await responderGuest(r, '10.0.0.2');
    await eventually(() => frames.length === 1);
    const out = frame(PEER, GUEST, 1514, 60);
    expect((await g.cmd('send', { frames: [hex(out)] })).sent).toBe(1);
    expect(hex(await frames[0]!.reader.next())).toBe(hex(out));
    const back = frame(GUEST, PEER, 64, 61);
    frames[0]!.sock.write(framed(back));
    expect((await g.cmd('inbox', { atLeast: 1, ethertype: 0x88b5 })).frames).toEqual([hex(back)]);
    // the server hangs up: connect mode reports the loss and the link goes down
    frames[0]!.sock.destroy();
    expect((await g.cmd('waitLink', { up: false })).ok).toBe(true);
    expect(r.tap.lastError?.message).toContain(`127.0.0.1:${port}`);

    // through socat: tap -> unix socket socat listens on -> socat -> TCP to the test's server
    const dir = mkdtempSync(join(tmpdir(), 'vbus-tap-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'relay.sock');
    const socat: Socat = startSocat(`UNIX-LISTEN:${path}`, `TCP:127.0.0.1:${port}`);
    cleanups.push(() => socat.stop());
    await socat.waitLog(/listening on/);
    adminView(r.host).write('/config/vbus/devices/tap0/enabled', '0\n');
    adminView(r.host).write('/config/vbus/devices/tap0/ifname', `stream-unix:${path}\n`);
    adminView(r.host).write('/config/vbus/devices/tap0/enabled', '1\n');
    await r.tap.whenOpen();
    expect((await g.cmd('waitLink', { up: true })).ok).toBe(true);
    await eventually(() => frames.length === 2);
    const viaSocat = [60, 1514, 14].map((len, i) => frame(PEER, GUEST, len, 70 + i));
    expect((await g.cmd('send', { frames: viaSocat.map(hex) })).sent).toBe(3);
    for (const f of viaSocat) expect(hex(await frames[1]!.reader.next())).toBe(hex(f));
    const reply = frame(GUEST, PEER, 900, 80);
    frames[1]!.sock.write(framed(reply));
    expect((await g.cmd('inbox', { atLeast: 1, ethertype: 0x88b5 })).frames).toEqual([hex(reply)]);
  });
});

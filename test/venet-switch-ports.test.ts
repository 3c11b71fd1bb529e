// External ports on venet-switch without a Linux stack: the test plays QEMU's
// `-netdev stream` peer on a Unix socket port (4-byte length framing) and a second
// external UDP port; frames are learned and flooded between external ports and guests;
// the admin's `ports` writes are validated (a refused write changes nothing) and
// applied as a set (unchanged ports keep their sockets, removed ones close).
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { StreamFrameDecoder, writeStreamPrefix } from '../dist/src/internal.js';
import { switchRig, type SwitchRig } from './helpers/switch-rig.js';
import { udpPort } from './helpers/tap-scenarios.js';
import { eventually } from './helpers/tap-peer.js';
import { PEER_MAC, arpRequest, checkArpReply, checkEchoReply, echoRequest, macBytes } from './helpers/wire-host.js';
import { adminView } from '../dist/src/internal.js';

let rig: SwitchRig | undefined;
afterEach(async () => { await rig?.release(); rig = undefined; });

const SOCK = path.join(os.tmpdir(), `vbus-swport-${process.pid}.sock`);

/** A QEMU-stream-speaking peer on a Unix socket: frames in a queue, a send function. */
async function streamPeer(p: string) {
  const s = net.connect({ path: p });
  await new Promise<void>((r, j) => { s.once('connect', () => r()); s.once('error', j); });
  const frames: Uint8Array[] = [];
  const dec = new StreamFrameDecoder(65535);
  s.on('data', (c) => dec.push(c, (d, at, len) => frames.push(d.slice(at, at + len))));
  return {
    send(f: Uint8Array) { const b = new Uint8Array(4 + f.length); writeStreamPrefix(b, 0, f.length); b.set(f, 4); s.write(b); },
    async next(ethertype: number, timeoutMs = 20_000): Promise<Uint8Array> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const i = frames.findIndex((f) => ((f[12]! << 8) | f[13]!) === ethertype);
        if (i >= 0) return frames.splice(i, 1)[0]!;
        if (Date.now() > deadline) throw new Error(`no frame of type 0x${ethertype.toString(16)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    frames,
    close() { s.destroy(); },
  };
}

describe('venet-switch external ports', () => {
  it('a QEMU-stream peer on a Unix socket port reaches guests on two buses, and a UDP port sees its floods', async () => {
    rig = await switchRig(`qemu stream-unix:${SOCK},listen\nwire udp:127.0.0.1:0`, ['10.1.0.2', '10.1.0.3']);
    await rig.ctl.port('qemu').whenOpen();
    const wireAddr = await rig.ctl.port('wire').whenOpen();
    // A UDP peer wired to the second external port: it must see the flooded ARP broadcast.
    const udp = createSocket('udp4');
    const udpIn: Uint8Array[] = [];
    udp.on('message', (m) => udpIn.push(new Uint8Array(m)));
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    // UDP ports learn their peer from the first datagram: announce with a frame to nobody.
    const hello = new Uint8Array(60); hello.set([0x02, 0, 0, 0, 0, 0x99], 0); hello.set([0x02, 0, 0, 0, 0, 0x98], 6);
    udp.send(hello, udpPort(wireAddr), '127.0.0.1');
    await eventually(() => rig!.ctl.port('wire').counters().rx_frames === 1); // flooded to the guests only: qemu has no peer yet
    const peer = await streamPeer(SOCK);
    try {
      await eventually(() => rig!.ctl.port('qemu').linkUp);
      for (const [i, g] of rig.guests.entries()) {
        peer.send(arpRequest('10.1.0.1', g.ip));
        expect(checkArpReply(await peer.next(0x0806), '10.1.0.1', g.ip)).toBe(g.mac);
        const data = Uint8Array.from({ length: 100 }, (_, k) => (k * 13 + i) & 0xff);
        peer.send(echoRequest('10.1.0.1', g.ip, macBytes(g.mac), 0x1234, i + 1, data));
        checkEchoReply(await peer.next(0x0800), '10.1.0.1', g.ip, 0x1234, i + 1, data);
      }
      // Both ARP broadcasts were flooded to the UDP port too (and the unicast echoes were not).
      await eventually(() => udpIn.filter((f) => f[12] === 0x08 && f[13] === 0x06).length === 2);
      expect(udpIn.every((f) => f.subarray(6, 12).every((b, k) => b === PEER_MAC[k]))).toBe(true);
      expect(udpIn).toHaveLength(2);
      const fdb = adminView(rig.host).read('/config/vbus/devices/sw0/fdb');
      expect(fdb).toContain('02:aa:bb:cc:dd:01 external:qemu');
      expect(fdb).toContain('02:00:00:00:00:98 external:wire');
      const q = rig.ctl.port('qemu').counters();
      expect(q).toEqual({ rx_frames: 4, rx_bytes: q.rx_bytes, tx_frames: 4, tx_bytes: q.tx_bytes, drops: 0 });
      expect(adminView(rig.host).read('/config/vbus/devices/sw0/ports_state')).toMatch(/^qemu stream-unix:.* link=up rx_frames=4 .*\nwire udp:127\.0\.0\.1:\d+ link=up rx_frames=1 /);
    } finally {
      peer.close();
      udp.close();
    }
  });

  it('refuses bad ports text with EINVAL and changes nothing; a rewrite keeps unchanged sockets and closes removed ones', async () => {
    rig = await switchRig('a udp:127.0.0.1:0', ['10.2.0.2']);
    const first = await rig.ctl.port('a').whenOpen();
    const file = '/config/vbus/devices/sw0/ports';
    for (const bad of ['a', 'a udp:127.0.0.1:0 enabled=2', 'a udp:nohost', 'a udp:127.0.0.1:0\na udp:127.0.0.1:0', 'b@ udp:127.0.0.1:0', 'a tcp:1.2.3.4:5']) {
      let code = '';
      try { adminView(rig.host).write(file, bad); } catch (e) { code = (e as { code: string }).code; }
      expect(code, bad).toBe('EINVAL');
      expect(adminView(rig.host).read(file)).toBe('a udp:127.0.0.1:0 enabled=1\n');
    }
    adminView(rig.host).write(file, 'a udp:127.0.0.1:0; b stream-tcp:127.0.0.1:0,listen enabled=0');
    expect(await rig.ctl.port('a').whenOpen()).toBe(first); // same socket, same port
    expect(rig.ctl.port('b').enabled).toBe(false);
    await expect(rig.ctl.port('b').whenOpen()).rejects.toMatchObject({ code: 'EAGAIN' });
    rig.ctl.removePort('a');
    expect(adminView(rig.host).read(file)).toBe('b stream-tcp:127.0.0.1:0,listen enabled=0\n');
    expect(() => rig!.ctl.port('a')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    // Its UDP port is free again: something else can bind it.
    const s = createSocket('udp4');
    await new Promise<void>((r, j) => { s.once('error', j); s.bind(udpPort(first), '127.0.0.1', () => r()); });
    s.close();
    const b = rig.ctl.addPort('c', 'udp:127.0.0.1:0');
    expect(await b.whenOpen()).toMatch(/^udp:127\.0\.0\.1:\d+$/);
    expect(rig.ctl.ports().map((p) => p.name)).toEqual(['b', 'c']);
  });
});

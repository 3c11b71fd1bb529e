// A real network on an external venet-switch port, no bridge guest in between: socat
// holds a Linux TAP interface (moved into a network namespace this test creates) and
// relays its frames over UDP to the switch's external port `uplink`; iputils' `ping` in
// the namespace reaches the responder guests on two buses behind the switch. Then the
// port is disabled (traffic stops, counters stand still) and enabled again (traffic
// resumes on the same UDP port, socat still wired). If this machine refuses TAP
// interfaces or namespaces, the test plays the far host itself over UDP instead and its
// title says so. Traffic goes only to loopback or inside the namespace created here.
import { createSocket } from 'node:dgram';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, have, run, runOk, startSocat, tapRefusal, type Socat } from './helpers/tap-peer.js';
import { switchRig, type SwitchRig } from './helpers/switch-rig.js';
import { udpPort } from './helpers/tap-scenarios.js';
import { arpRequest, checkArpReply, checkEchoReply, echoRequest, macBytes } from './helpers/wire-host.js';
import { adminView } from '../dist/src/index.js';

const TAG = String(process.pid % 100000);
const N = ((process.pid + 97) % 250) + 1;
const IFNAME = `vbs${TAG}`;
const NETNS = `vbus-sw${TAG}-${Date.now() % 100000}`;
const LINUX_IP = `10.198.${N}.1`;
const GUEST_IPS = [`10.198.${N}.2`, `10.198.${N}.3`];

async function tapAllowed(): Promise<string | null> {
  if (!(await have('socat', ['-V']))) throw new Error('socat is missing: run scripts/setup.sh');
  return tapRefusal(`s${TAG}`);
}

const refused = await tapAllowed();
let rig: SwitchRig | undefined;
let socat: Socat | undefined;
let nsMade = false;

afterAll(async () => {
  await socat?.stop();
  if (nsMade) await run('ip', ['netns', 'del', NETNS]);
  await rig?.release();
});

const ok = runOk;

const nsPing = (ip: string, count: number, wait: number) =>
  run('ip', ['netns', 'exec', NETNS, 'ping', '-n', '-c', String(count), '-W', String(wait), '-i', '0.2', ip], 60_000);

describe(`venet-switch external port with a real peer (${refused ? `socket peer: ${refused}` : 'Linux TAP in a namespace'})`, () => {
  it(refused ? 'the test, as the far host over UDP, reaches guests on two buses' : `ping from a Linux TAP reaches guests on two buses through the switch; enabled=0 stops it, enabled=1 restarts it`, async () => {
    rig = await switchRig('uplink udp:127.0.0.1:0\n', GUEST_IPS);
    const port = rig.ctl.port('uplink');
    const bound = await port.whenOpen(20_000);
    const udp = udpPort(bound);
    expect(adminView(rig.host).read('/config/vbus/devices/sw0/ports')).toBe('uplink udp:127.0.0.1:0 enabled=1\n');
    expect(adminView(rig.host).read('/config/vbus/devices/sw0/ports_state')).toMatch(new RegExp(`^uplink udp:127\\.0\\.0\\.1:${udp} link=up rx_frames=0 `));

    if (refused) {
      // Fallback: the test's own UDP socket is the far host (ARP, then echo requests).
      const sock = createSocket('udp4');
      const inbox: Uint8Array[] = [];
      sock.on('message', (m) => inbox.push(new Uint8Array(m)));
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
      const send = (f: Uint8Array) => new Promise<void>((r, j) => sock.send(f, udp, '127.0.0.1', (e) => (e ? j(e) : r())));
      const next = async (ethertype: number): Promise<Uint8Array> => {
        const deadline = Date.now() + 20_000;
        for (;;) {
          const i = inbox.findIndex((f) => ((f[12]! << 8) | f[13]!) === ethertype);
          if (i >= 0) return inbox.splice(i, 1)[0]!;
          if (Date.now() > deadline) throw new Error(`no frame of type ${ethertype.toString(16)}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      try {
        for (const g of rig.guests) {
          await send(arpRequest(LINUX_IP, g.ip));
          const mac = checkArpReply(await next(0x0806), LINUX_IP, g.ip);
          expect(mac).toBe(g.mac);
          const data = Uint8Array.from({ length: 56 }, (_, i) => i * 7);
          await send(echoRequest(LINUX_IP, g.ip, macBytes(mac), 0x77, 1, data));
          checkEchoReply(await next(0x0800), LINUX_IP, g.ip, 0x77, 1, data);
        }
      } finally {
        sock.close();
      }
      return;
    }

    // socat holds the TAP fd (iff-no-pi: bare Ethernet frames) and relays each frame as one
    // datagram to the port; UDP-SENDTO survives the port-unreachable errors while disabled.
    socat = startSocat(`TUN,tun-type=tap,tun-name=${IFNAME},iff-no-pi`, `UDP-SENDTO:127.0.0.1:${udp}`);
    await socat.waitLog(/starting data transfer loop/);
    await ok('ip', ['netns', 'add', NETNS]);
    nsMade = true;
    await ok('ip', ['link', 'set', IFNAME, 'netns', NETNS]);
    await ok('ip', ['netns', 'exec', NETNS, 'ip', 'addr', 'add', `${LINUX_IP}/24`, 'dev', IFNAME]);
    await ok('ip', ['netns', 'exec', NETNS, 'ip', 'link', 'set', IFNAME, 'up']);

    for (const g of rig.guests) {
      const ping = await nsPing(g.ip, 4, 2);
      console.info(`[venet-switch-tap] ping ${g.ip} (bus ${rig.buses[rig.guests.indexOf(g)]!.name}) through sw0:\n${ping.stdout}${ping.stderr}`);
      expect(ping.code).toBe(0);
      expect(ping.stdout).toMatch(/4 packets transmitted, 4 received, 0% packet loss/);
      expect(ping.stdout).not.toMatch(/DUP!|wrong data/);
      const neigh = await run('ip', ['netns', 'exec', NETNS, 'ip', 'neigh', 'show', g.ip, 'dev', IFNAME]);
      expect(neigh.stdout).toContain(`lladdr ${g.mac}`);
      expect((await g.cmd('stats')).echo).toBe(4);
    }
    // The switch learned the Linux interface on its external port.
    const tapMac = (await run('ip', ['netns', 'exec', NETNS, 'cat', `/sys/class/net/${IFNAME}/address`])).stdout.trim();
    expect(adminView(rig.host).read('/config/vbus/devices/sw0/fdb')).toContain(`${tapMac} external:uplink`);
    const c = port.counters();
    expect(c.rx_frames).toBeGreaterThanOrEqual(8 + 1); // 8 echo requests and at least one ARP request came in
    expect(c.tx_frames).toBeGreaterThanOrEqual(8 + 2); // 8 echo replies and 2 ARP replies went out

    // Disabled: the socket closes, pings go unanswered and nothing reaches the guests.
    rig.ctl.setPortEnabled('uplink', false);
    expect(adminView(rig.host).read('/config/vbus/devices/sw0/ports')).toBe('uplink udp:127.0.0.1:0 enabled=0\n');
    expect(port.linkUp).toBe(false);
    const before = port.counters();
    const down = await nsPing(GUEST_IPS[0]!, 2, 1);
    expect(down.code).not.toBe(0);
    expect(down.stdout).toMatch(/2 packets transmitted, 0 received/);
    expect((await rig.guests[0]!.cmd('stats')).echo).toBe(4);
    expect(port.counters().rx_frames).toBe(before.rx_frames);

    // Enabled through the admin file: the same UDP port again, traffic resumes.
    adminView(rig.host).write('/config/vbus/devices/sw0/ports', 'uplink udp:127.0.0.1:0 enabled=1\n');
    expect(await port.whenOpen()).toBe(`udp:127.0.0.1:${udp}`);
    for (const g of rig.guests) {
      const again = await nsPing(g.ip, 3, 2);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/3 packets transmitted, 3 received/);
    }
    await eventually(async () => (await rig!.guests[1]!.cmd('stats')).echo === 7);
    expect(adminView(rig.host).read('/config/vbus/devices/sw0/faults')).toBe('0\n');
  });
});

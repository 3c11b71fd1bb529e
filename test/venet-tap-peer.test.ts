// venet-tap against real peers nobody here wrote. Preferred path ("linux-tap"): socat
// holds a Linux TAP interface and relays its frames over UDP to the tap; the interface
// is moved into a network namespace this test creates, given 10.199.N.1/24, and iputils'
// `ping` there reaches the guest at 10.199.N.2, which answers ARP and ICMP echo through
// the real guest driver. If this machine refuses TAP interfaces or namespaces (or has
// no ping), the test runs the socat-only path instead ("socat-udp-relay": socat relays
// datagrams between the tap and a socket the test owns) and its title says so.
// Traffic goes only to loopback or inside the namespace created here.
// VBUS_TAP_PEER=socat forces the socat-only path (to check it on a machine that allows TAP).
import { afterAll, describe, expect, it } from 'vitest';
import { have, run, runOk, startSocat, eventually, tapRefusal, type Socat } from './helpers/tap-peer.js';
import { responderGuest, socatUdpExchange, tapRig, udpPort, type TapRig } from './helpers/tap-scenarios.js';
import { adminView } from '../dist/src/index.js';

const TAG = String(process.pid % 100000);
const N = (process.pid % 250) + 1;
const IFNAME = `vbt${TAG}`; // at most 8 characters (IFNAMSIZ is 16)
const NETNS = `vbus-tap${TAG}-${Date.now() % 100000}`;
const LINUX_IP = `10.199.${N}.1`;
const GUEST_IP = `10.199.${N}.2`;

/** Which peer path this machine allows; probed by creating and deleting a namespace and a TAP. */
async function probe(): Promise<{ path: 'linux-tap' | 'socat-udp-relay'; why: string }> {
  if (!(await have('socat', ['-V']))) throw new Error('socat is missing: run scripts/setup.sh (it installs socat, iproute2 and iputils-ping)');
  if (process.env.VBUS_TAP_PEER === 'socat') return { path: 'socat-udp-relay', why: 'forced by VBUS_TAP_PEER=socat' };
  const refused = await tapRefusal(`t${TAG}`);
  return refused ? { path: 'socat-udp-relay', why: refused } : { path: 'linux-tap', why: 'TAP interfaces and namespaces are allowed' };
}

const chosen = await probe();
let rig: TapRig | undefined;
let socat: Socat | undefined;
let nsMade = false;

afterAll(async () => {
  // Even on failure: stop socat (its TAP goes with it), delete the namespace, free the host.
  await socat?.stop();
  if (nsMade) await run('ip', ['netns', 'del', NETNS]);
  await rig?.release();
});

const ok = runOk;

describe(`venet-tap with a real peer (path: ${chosen.path}; ${chosen.why})`, () => {
  if (chosen.path === 'linux-tap') {
    it(`ping from a Linux TAP in namespace ${NETNS} gets replies from the guest at ${GUEST_IP}`, async () => {
      rig = await tapRig('udp:127.0.0.1:0');
      const port = udpPort(rig.endpoint);
      expect(adminView(rig.host).read('/sys/vbus/devices/tap0/ifname')).toBe(`udp:127.0.0.1:${port}\n`);
      const g = await responderGuest(rig, GUEST_IP);
      expect((await g.cmd('waitLink', { up: true })).ok).toBe(true);

      // socat holds the TAP fd (iff-no-pi: bare Ethernet frames, no tun_pi header) and relays
      // each frame as one datagram to the tap's UDP port (host loopback). UDP-SENDTO, not
      // UDP: an unconnected socket survives the port-unreachable errors of the disabled spell.
      socat = startSocat(`TUN,tun-type=tap,tun-name=${IFNAME},iff-no-pi`, `UDP-SENDTO:127.0.0.1:${port}`);
      await socat.waitLog(/starting data transfer loop/);
      await ok('ip', ['netns', 'add', NETNS]);
      nsMade = true;
      await ok('ip', ['link', 'set', IFNAME, 'netns', NETNS]);
      await ok('ip', ['netns', 'exec', NETNS, 'ip', 'addr', 'add', `${LINUX_IP}/24`, 'dev', IFNAME]);
      await ok('ip', ['netns', 'exec', NETNS, 'ip', 'link', 'set', IFNAME, 'up']);

      const ping = await run('ip', ['netns', 'exec', NETNS, 'ping', '-n', '-c', '5', '-W', '2', '-i', '0.2', GUEST_IP], 60_000);
      console.info(`[venet-tap-peer] path linux-tap: ip netns exec ${NETNS} ping -n -c 5 -W 2 -i 0.2 ${GUEST_IP}\n${ping.stdout}${ping.stderr}`);
      expect(ping.code).toBe(0);
      expect(ping.stdout).toMatch(/5 packets transmitted, 5 received, 0% packet loss/);
      for (let seq = 1; seq <= 5; seq++) expect(ping.stdout).toMatch(new RegExp(`bytes from ${GUEST_IP.replace(/\./g, '\\.')}: icmp_seq=${seq} ttl=64`));
      expect(ping.stdout).not.toMatch(/DUP!|wrong data|corrupted/);

      // Linux learned the guest's MAC from its ARP reply.
      const neigh = await run('ip', ['netns', 'exec', NETNS, 'ip', 'neigh', 'show', GUEST_IP, 'dev', IFNAME]);
      expect(neigh.stdout).toContain(`lladdr ${g.mac}`);

      const st = await g.cmd('stats');
      expect(st.echo).toBe(5);
      expect(st.arp).toBeGreaterThanOrEqual(1);
      expect(st.badChecksum ?? 0).toBe(0);
      await eventually(() => rig!.tap.counters().rx_frames >= 6); // ARP reply + 5 echo replies left the guest
      const c = rig.tap.counters();
      expect(c.tx_frames).toBeGreaterThanOrEqual(6); // ARP request + 5 echo requests reached it
      expect(c.rx_bytes).toBeGreaterThanOrEqual(6 * 60);
      expect(c.faults).toBe(0);

      // enabled=0: LINK_DOWN, and nothing passes; enabled=1: LINK_UP on the same port, socat still wired.
      adminView(rig.host).write('/config/vbus/devices/tap0/enabled', '0\n');
      expect((await g.cmd('waitLink', { up: false })).ok).toBe(true);
      const before = rig.tap.counters();
      const down = await run('ip', ['netns', 'exec', NETNS, 'ping', '-n', '-c', '2', '-W', '1', '-i', '0.2', GUEST_IP], 60_000);
      expect(down.code).not.toBe(0);
      expect(down.stdout).toMatch(/2 packets transmitted, 0 received/);
      expect((await g.cmd('stats')).echo).toBe(5);
      expect(rig.tap.counters().tx_frames).toBe(before.tx_frames);

      adminView(rig.host).write('/config/vbus/devices/tap0/enabled', '1\n');
      expect(await rig.tap.whenOpen()).toBe(`udp:127.0.0.1:${port}`);
      expect((await g.cmd('waitLink', { up: true })).ok).toBe(true);
      const again = await run('ip', ['netns', 'exec', NETNS, 'ping', '-n', '-c', '3', '-W', '2', '-i', '0.2', GUEST_IP], 60_000);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/3 packets transmitted, 3 received/);
      expect((await g.cmd('stats')).echo).toBe(8);
    });
  } else {
    it('socat relays the tap\'s UDP datagrams to a socket the test owns; ARP and ICMP echo answered byte-exact', async () => {
      rig = await tapRig('udp:127.0.0.1:0');
      const g = await responderGuest(rig, GUEST_IP);
      expect((await g.cmd('waitLink', { up: true })).ok).toBe(true);
      const r = await socatUdpExchange(rig, GUEST_IP, LINUX_IP, 5);
      console.info(`[venet-tap-peer] path socat-udp-relay (${chosen.why}): ARP answered by ${r.arpMac}, ${r.replies} echo replies`);
      expect(r.arpMac).toBe(g.mac);
      expect(r.replies).toBe(5);
      expect((await g.cmd('stats')).echo).toBe(5);
      await eventually(() => rig!.tap.counters().rx_frames >= 6);
    });
  }
});

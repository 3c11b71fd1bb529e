/**
 * A vbus guest that owns one IPv4 address on venet device `dev` and answers ARP and
 * ICMP echo for it (net-responder.ts) — the peer a v86 VM pings on the v86 page; the
 * same program would run on Node. Posts `{event: 'peer-ready', mac}` and, once a second,
 * `{event: 'peer-stats', arp, echo}`.
 */
import type { Guest } from '../guest/join.js';
import { openVenet } from '../devices/venet/driver.js';
import { respond, type ResponderStats } from '../devices/venet/net-responder.js';

export interface PingPeerData { dev: number; ip: string }

export function runPingPeer(guest: Guest): void {
  const data = guest.data as PingPeerData;
  const drv = openVenet(guest, data.dev);
  const me = { mac: drv.mac, ip: Uint8Array.from(data.ip.split('.').map(Number)) };
  const stats: ResponderStats = {};
  drv.onReceive((frame) => {
    const reply = respond(frame, me, stats); // reads the ring slot, builds a new frame
    if (reply) drv.send(reply);
  });
  guest.post({ event: 'peer-ready', mac: drv.macText });
  setInterval(() => guest.post({ event: 'peer-stats', arp: stats.arp ?? 0, echo: stats.echo ?? 0 }), 1000);
}

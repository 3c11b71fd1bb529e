// A tiny IPv4 host for guests: answers ARP requests and ICMP echo requests for one
// address, as a real network stack would (RFC 826 ARP, RFC 791 IPv4, RFC 792 ICMP,
// RFC 1071 checksum). Everything it reads comes from the wire, so every field is
// checked (lengths, versions, checksums, fragments) and anything odd is ignored.
// Pure functions: a guest calls respond() for each received frame (the test fixtures,
// the v86 page's peer guest).

export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
/** Ethernet minimum frame without FCS: shorter replies are zero-padded to it. */
export const ETH_MIN_FRAME = 60;

const BROADCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

function be16(b: Uint8Array, at: number): number { return (b[at]! << 8) | b[at + 1]!; }
function put16(b: Uint8Array, at: number, v: number): void { b[at] = (v >>> 8) & 0xff; b[at + 1] = v & 0xff; }
function same(a: Uint8Array, at: number, b: Uint8Array): boolean { for (let i = 0; i < b.length; i++) if (a[at + i] !== b[i]) return false; return true; }

/** RFC 1071 Internet checksum of b[at .. at+len) (the one's complement of the one's complement sum). */
export function inetChecksum(b: Uint8Array, at: number, len: number): number {
  let sum = 0;
  let i = 0;
  for (; i + 1 < len; i += 2) sum += (b[at + i]! << 8) | b[at + i + 1]!;
  if (i < len) sum += b[at + i]! << 8; // odd length: pad with a zero byte
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** A frame of at least ETH_MIN_FRAME bytes with the Ethernet header filled in. */
function ethFrame(dst: Uint8Array, src: Uint8Array, type: number, payloadLen: number): Uint8Array {
  const f = new Uint8Array(Math.max(ETH_MIN_FRAME, 14 + payloadLen));
  f.set(dst, 0);
  f.set(src, 6);
  put16(f, 12, type);
  return f;
}

/** What {@link respond} counts. */
export interface ResponderStats { arp?: number; echo?: number; badChecksum?: number }
/** The host a responder plays. */
export interface ResponderHost { mac: Uint8Array; ip: Uint8Array }

/**
 * The reply to `frame` for a host with `me = {mac: Uint8Array(6), ip: Uint8Array(4)}`,
 * or null (not for us, not a request, malformed). `stats` counts what was answered.
 */
export function respond(frame: Uint8Array, me: ResponderHost, stats: ResponderStats = {}): Uint8Array | null {
  if (frame.length < 14) return null;
  const dstOk = same(frame, 0, me.mac) || same(frame, 0, BROADCAST);
  if (!dstOk) return null;
  const type = be16(frame, 12);
  if (type === ETH_P_ARP) return arp(frame, me, stats);
  if (type === ETH_P_IP) return icmpEcho(frame, me, stats);
  return null;
}

function arp(f: Uint8Array, me: ResponderHost, stats: ResponderStats): Uint8Array | null {
  // htype 1 (Ethernet), ptype 0x0800, hlen 6, plen 4, oper 1 (request), target IP = ours
  if (f.length < 14 + 28) return null;
  if (be16(f, 14) !== 1 || be16(f, 16) !== ETH_P_IP || f[18] !== 6 || f[19] !== 4 || be16(f, 20) !== 1) return null;
  if (!same(f, 38, me.ip)) return null;
  const sha = f.slice(22, 28);
  const spa = f.slice(28, 32);
  const r = ethFrame(sha, me.mac, ETH_P_ARP, 28);
  put16(r, 14, 1); put16(r, 16, ETH_P_IP); r[18] = 6; r[19] = 4; put16(r, 20, 2); // reply
  r.set(me.mac, 22); r.set(me.ip, 28); // sender: us
  r.set(sha, 32); r.set(spa, 38); // target: the asker
  stats.arp = (stats.arp ?? 0) + 1;
  return r;
}

function icmpEcho(f: Uint8Array, me: ResponderHost, stats: ResponderStats): Uint8Array | null {
  const ip = 14;
  if (f.length < ip + 20) return null;
  const ihl = (f[ip]! & 0x0f) * 4;
  if (f[ip]! >> 4 !== 4 || ihl < 20) return null;
  const total = be16(f, ip + 2);
  if (total < ihl + 8 || ip + total > f.length) return null; // frames may carry padding beyond total
  if (inetChecksum(f, ip, ihl) !== 0) { stats.badChecksum = (stats.badChecksum ?? 0) + 1; return null; }
  if ((be16(f, ip + 6) & 0x3fff) !== 0) return null; // a fragment (MF or an offset): not handled
  if (f[ip + 9] !== 1 || !same(f, ip + 16, me.ip)) return null; // not ICMP, or not to us
  const icmp = ip + ihl;
  const icmpLen = total - ihl;
  if (f[icmp] !== 8 || f[icmp + 1] !== 0) return null; // echo request only
  if (inetChecksum(f, icmp, icmpLen) !== 0) { stats.badChecksum = (stats.badChecksum ?? 0) + 1; return null; }

  const r = ethFrame(f.subarray(6, 12), me.mac, ETH_P_IP, 20 + icmpLen);
  const rip = 14;
  r[rip] = 0x45; // version 4, no options
  r[rip + 1] = f[ip + 1]!; // keep the type of service
  put16(r, rip + 2, 20 + icmpLen);
  put16(r, rip + 4, be16(f, ip + 4)); // identification
  put16(r, rip + 6, 0); // no flags, offset 0
  r[rip + 8] = 64; // TTL
  r[rip + 9] = 1; // ICMP
  r.set(me.ip, rip + 12);
  r.set(f.subarray(ip + 12, ip + 16), rip + 16); // back to the sender
  put16(r, rip + 10, inetChecksum(r, rip, 20));
  const ric = rip + 20;
  r.set(f.subarray(icmp, icmp + icmpLen), ric); // identifier, sequence and data unchanged
  r[ric] = 0; // echo reply
  r[ric + 1] = 0;
  put16(r, ric + 2, 0);
  put16(r, ric + 2, inetChecksum(r, ric, icmpLen));
  stats.echo = (stats.echo ?? 0) + 1;
  return r;
}

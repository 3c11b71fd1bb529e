// The far end of a wire, played by the test when no Linux stack is at hand: builds ARP
// requests and ICMP echo requests, and checks the replies field by field (checksums
// included), independently of the guest's responder code paths.
import { inetChecksum } from '../fixtures/net-responder.mjs';

export const PEER_MAC = Uint8Array.from([0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01]);

export function ipBytes(text: string): Uint8Array { return Uint8Array.from(text.split('.').map(Number)); }
export function macBytes(text: string): Uint8Array { return Uint8Array.from(text.split(':').map((h) => parseInt(h, 16))); }
const eq = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** ARP who-has `target` from PEER_MAC / `sender`, broadcast. */
export function arpRequest(sender: string, target: string): Uint8Array {
  const f = new Uint8Array(42);
  f.fill(0xff, 0, 6);
  f.set(PEER_MAC, 6);
  f[12] = 0x08; f[13] = 0x06;
  f.set([0, 1, 0x08, 0x00, 6, 4, 0, 1], 14);
  f.set(PEER_MAC, 22); f.set(ipBytes(sender), 28);
  f.set(ipBytes(target), 38); // target MAC stays zero
  return f;
}

/** Checks an ARP reply to {@link arpRequest}; returns the MAC it announces. */
export function checkArpReply(f: Uint8Array, sender: string, target: string): string {
  if (f.length < 42) throw new Error(`ARP reply of ${f.length} bytes`);
  if (!eq(f.subarray(0, 6), PEER_MAC)) throw new Error('ARP reply not addressed to the asker');
  if (f[12] !== 0x08 || f[13] !== 0x06) throw new Error('not ARP');
  if (!eq(f.subarray(14, 22), Uint8Array.from([0, 1, 0x08, 0x00, 6, 4, 0, 2]))) throw new Error('not an Ethernet/IPv4 ARP reply');
  if (!eq(f.subarray(6, 12), f.subarray(22, 28))) throw new Error('ARP sender MAC differs from the frame source');
  if (!eq(f.subarray(28, 32), ipBytes(target))) throw new Error('ARP reply for another address');
  if (!eq(f.subarray(32, 38), PEER_MAC) || !eq(f.subarray(38, 42), ipBytes(sender))) throw new Error('ARP reply target is not the asker');
  return Array.from(f.subarray(22, 28), (x) => x.toString(16).padStart(2, '0')).join(':');
}

/** ICMP echo request `seq` with `data` from `src` (PEER_MAC) to `dst` at `dstMac`. */
export function echoRequest(src: string, dst: string, dstMac: Uint8Array, id: number, seq: number, data: Uint8Array): Uint8Array {
  const icmpLen = 8 + data.length;
  const f = new Uint8Array(14 + 20 + icmpLen);
  f.set(dstMac, 0); f.set(PEER_MAC, 6); f[12] = 0x08; f[13] = 0x00;
  const ip = 14;
  f[ip] = 0x45; f[ip + 2] = (20 + icmpLen) >> 8; f[ip + 3] = (20 + icmpLen) & 0xff;
  f[ip + 4] = seq >> 8; f[ip + 5] = seq & 0xff; f[ip + 6] = 0x40; // DF
  f[ip + 8] = 64; f[ip + 9] = 1;
  f.set(ipBytes(src), ip + 12); f.set(ipBytes(dst), ip + 16);
  const c = inetChecksum(f, ip, 20); f[ip + 10] = c >> 8; f[ip + 11] = c & 0xff;
  const ic = ip + 20;
  f[ic] = 8; f[ic + 4] = id >> 8; f[ic + 5] = id & 0xff; f[ic + 6] = seq >> 8; f[ic + 7] = seq & 0xff;
  f.set(data, ic + 8);
  const k = inetChecksum(f, ic, icmpLen); f[ic + 2] = k >> 8; f[ic + 3] = k & 0xff;
  return f;
}

/** Checks an echo reply to {@link echoRequest}; throws naming the first wrong field. */
export function checkEchoReply(f: Uint8Array, src: string, dst: string, id: number, seq: number, data: Uint8Array): void {
  const ip = 14;
  if (!eq(f.subarray(0, 6), PEER_MAC)) throw new Error('echo reply not addressed to us');
  if (f[12] !== 0x08 || f[13] !== 0x00 || f[ip] >> 4 !== 4) throw new Error('not IPv4');
  const ihl = (f[ip]! & 15) * 4;
  const total = (f[ip + 2]! << 8) | f[ip + 3]!;
  if (inetChecksum(f, ip, ihl) !== 0) throw new Error('bad IPv4 header checksum');
  if (f[ip + 9] !== 1 || !eq(f.subarray(ip + 12, ip + 16), ipBytes(dst)) || !eq(f.subarray(ip + 16, ip + 20), ipBytes(src))) throw new Error('wrong protocol or addresses');
  const ic = ip + ihl;
  const icmpLen = total - ihl;
  if (icmpLen !== 8 + data.length) throw new Error(`echo reply carries ${icmpLen - 8} data bytes, sent ${data.length}`);
  if (inetChecksum(f, ic, icmpLen) !== 0) throw new Error('bad ICMP checksum');
  if (f[ic] !== 0 || f[ic + 1] !== 0) throw new Error(`ICMP type ${f[ic]} code ${f[ic + 1]}, not an echo reply`);
  if (((f[ic + 4]! << 8) | f[ic + 5]!) !== id || ((f[ic + 6]! << 8) | f[ic + 7]!) !== seq) throw new Error('wrong identifier or sequence');
  if (!eq(f.subarray(ic + 8, ic + icmpLen), data)) throw new Error('echo data differs');
}

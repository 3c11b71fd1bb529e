/**
 * venet-tap endpoints: where the tap's frames leave the process, written as text in the
 * device's `ifname` attribute. Platform-neutral (parsing and formatting only; the
 * sockets live in src/platform/node-venet-tap.ts).
 *
 *   udp:HOST:PORT                 bind HOST:PORT (PORT 0: any free port); the peer is
 *                                 whoever sent the last datagram (one frame per datagram,
 *                                 as QEMU's `-netdev dgram` and `socat UDP:` speak)
 *   udp:HOST:PORT,peer=HOST:PORT  bind, and exchange datagrams with that peer only
 *   stream-tcp:HOST:PORT          connect; each frame carries a 4-byte big-endian length
 *                                 prefix (QEMU's `-netdev stream` framing)
 *   stream-tcp:HOST:PORT,listen   listen and serve one peer at a time
 *   stream-unix:PATH[,listen]     the same over a Unix stream socket
 *
 * IPv6 hosts are written in brackets: `udp:[::1]:0`.
 */
import { vbusError } from '../../errors.js';

/** A parsed endpoint. */
export type TapEndpoint =
  | { kind: 'udp'; host: string; port: number; peer: { host: string; port: number } | null }
  | { kind: 'stream-tcp'; host: string; port: number; listen: boolean }
  | { kind: 'stream-unix'; path: string; listen: boolean };

/** The endpoint a fresh venet-tap uses: any free UDP port on the loopback address. */
export const TAP_DEFAULT_ENDPOINT = 'udp:127.0.0.1:0';

/** Longest Unix socket path Linux accepts (sun_path is 108 bytes with its NUL). */
const UNIX_PATH_MAX = 107;

function bad(text: string, why: string): never {
  throw vbusError('EINVAL', `venet-tap endpoint ${JSON.stringify(text)}: ${why} (forms: udp:HOST:PORT[,peer=HOST:PORT], stream-tcp:HOST:PORT[,listen], stream-unix:PATH[,listen])`, { value: text });
}

/** `HOST:PORT` or `[V6]:PORT`; `allowZero` lets PORT be 0 (bind to any port). */
function hostPort(text: string, part: string, allowZero: boolean): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(part);
  if (!m) bad(text, `${JSON.stringify(part)} is not HOST:PORT`);
  const port = Number(m[3]);
  if (port > 65535 || (port === 0 && !allowZero)) bad(text, `port ${m[3]} is out of range`);
  return { host: m[1] ?? m[2]!, port };
}

/** Parses endpoint text. Throws EINVAL naming the text and the rule it breaks. */
export function parseTapEndpoint(text: string): TapEndpoint {
  const t = text.trim();
  const colon = t.indexOf(':');
  if (colon < 0) bad(t, 'no kind');
  const kind = t.slice(0, colon);
  const parts = t.slice(colon + 1).split(',');
  const main = parts[0]!;
  const opts = parts.slice(1);
  if (kind === 'udp') {
    const { host, port } = hostPort(t, main, true);
    let peer: { host: string; port: number } | null = null;
    for (const o of opts) {
      if (o.startsWith('peer=') && peer === null) peer = hostPort(t, o.slice(5), false);
      else bad(t, `unknown or repeated option ${JSON.stringify(o)}`);
    }
    return { kind, host, port, peer };
  }
  if (kind === 'stream-tcp' || kind === 'stream-unix') {
    let listen = false;
    for (const o of opts) {
      if (o === 'listen' && !listen) listen = true;
      else bad(t, `unknown or repeated option ${JSON.stringify(o)}`);
    }
    if (kind === 'stream-tcp') {
      const { host, port } = hostPort(t, main, listen);
      return { kind, host, port, listen };
    }
    if (!main.startsWith('/')) bad(t, 'a Unix socket path must be absolute');
    if (utf8Length(main) > UNIX_PATH_MAX) bad(t, `the path is longer than ${UNIX_PATH_MAX} bytes`);
    return { kind, path: main, listen };
  }
  return bad(t, `unknown kind ${JSON.stringify(kind)}`);
}

/** UTF-8 length (no Node Buffer: this file also loads in browsers). */
function utf8Length(s: string): number { return new TextEncoder().encode(s).length; }

function hostText(host: string): string { return host.includes(':') ? `[${host}]` : host; }

/** Formats an endpoint as {@link parseTapEndpoint} reads it. */
export function formatTapEndpoint(ep: TapEndpoint): string {
  switch (ep.kind) {
    case 'udp': return `udp:${hostText(ep.host)}:${ep.port}${ep.peer ? `,peer=${hostText(ep.peer.host)}:${ep.peer.port}` : ''}`;
    case 'stream-tcp': return `stream-tcp:${hostText(ep.host)}:${ep.port}${ep.listen ? ',listen' : ''}`;
    case 'stream-unix': return `stream-unix:${ep.path}${ep.listen ? ',listen' : ''}`;
  }
}

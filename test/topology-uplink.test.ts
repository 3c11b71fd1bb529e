// The uplink topology (examples/topologies/uplink.yaml) run by the vbus command: a
// venet-switch whose external UDP port is set in the topology file, ping peers on two
// buses. The test reads the bound port with `vbus cat`, then plays the far host over UDP
// (ARP and ICMP echo to both peers), checking each reply field by field.
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startRuntime, vbus } from './helpers/cli.js';
import { arpRequest, checkArpReply, checkEchoReply, echoRequest, macBytes } from './helpers/wire-host.js';

const rtDir = mkdtempSync(join(tmpdir(), 'vbus-uplink-'));
const env = { VBUS_RUNTIME_DIR: rtDir };
const FILE = 'examples/topologies/uplink.yaml';
afterAll(() => rmSync(rtDir, { recursive: true, force: true }));

describe('topology with an external switch port', () => {
  it('validates, runs, and its uplink port reaches the ping peers on both buses', async () => {
    const check = vbus(['run', FILE, '--check'], env);
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout).toContain('ok (2 buses, 1 devices, 2 links, 2 guests)');
    const rt = await startRuntime(FILE, env);
    const sock = createSocket('udp4');
    try {
      expect(vbus(['cat', '/config/vbus/devices/sw0/ports'], env).stdout).toBe('uplink udp:127.0.0.1:0 enabled=1\n');
      let state = '';
      for (let i = 0; i < 100 && !/link=up/.test(state); i++) {
        state = vbus(['cat', '/config/vbus/devices/sw0/ports_state'], env).stdout;
        if (!/link=up/.test(state)) await new Promise((r) => setTimeout(r, 100));
      }
      const port = Number(/^uplink udp:127\.0\.0\.1:(\d+) link=up/.exec(state)?.[1]);
      expect(port).toBeGreaterThan(0);
      const inbox: Uint8Array[] = [];
      sock.on('message', (m) => inbox.push(new Uint8Array(m)));
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
      const send = (f: Uint8Array) => new Promise<void>((r, j) => sock.send(f, port, '127.0.0.1', (e) => (e ? j(e) : r())));
      const next = async (ethertype: number, timeoutMs = 20_000): Promise<Uint8Array> => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const i = inbox.findIndex((f) => ((f[12]! << 8) | f[13]!) === ethertype);
          if (i >= 0) return inbox.splice(i, 1)[0]!;
          if (Date.now() > deadline) throw new Error(`no frame of type 0x${ethertype.toString(16)}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      // The guests may still be starting: ask each peer again until it answers (bounded).
      const arp = async (ip: string): Promise<string> => {
        for (let i = 0; i < 60; i++) {
          await send(arpRequest('10.198.1.1', ip));
          const f = await next(0x0806, 500).catch(() => null);
          // A late answer to an earlier try (possibly from the other peer) is skipped.
          if (f && f.subarray(28, 32).join('.') === ip) return checkArpReply(f, '10.198.1.1', ip);
        }
        throw new Error(`no ARP reply from ${ip} in 30 s`);
      };
      const macs = [await arp('10.198.1.2'), await arp('10.198.1.3')];
      expect(new Set(macs).size).toBe(2);
      for (const [i, ip] of ['10.198.1.2', '10.198.1.3'].entries()) {
        const data = Uint8Array.from({ length: 48 }, (_, k) => k + i);
        await send(echoRequest('10.198.1.1', ip, macBytes(macs[i]!), 0x51, i + 1, data));
        checkEchoReply(await next(0x0800), '10.198.1.1', ip, 0x51, i + 1, data);
      }
      expect(vbus(['cat', '/config/vbus/devices/sw0/fdb'], env).stdout).toContain('02:aa:bb:cc:dd:01 external:uplink');
    } finally {
      sock.close();
      await rt.stop();
    }
  });
});

// The control protocol on the wire (in-process server, raw socket client): answers in
// order, each with its id; another version is EPROTO naming both; a non-JSON line is
// EPROTO; an unknown operation ENOSYS; an over-long line EMSGSIZE and the connection
// closes; path operations give exactly host.admin's results and errors.
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VbusHost, VbusError, adminView, vrngClass } from '../dist/src/index.js';
import { ControlClient, ControlServer, CONTROL_PROTOCOL_VERSION, MAX_LINE_BYTES } from '../dist/src/control/index.js';

const work = mkdtempSync(join(tmpdir(), 'vbus-proto-'));
const host = new VbusHost();
let server: ControlServer;
beforeAll(async () => {
  host.registerClass(vrngClass);
  host.createBus('vm1');
  server = await ControlServer.start(host, { name: 'proto', dir: join(work, 'rt'), grantDir: join(work, 'g') });
});
afterAll(async () => { await server.close(); host.release(); rmSync(work, { recursive: true, force: true }); });

/** Sends raw lines, collects `n` response lines (or what came before the close). */
function raw(lines: string[], n: number): Promise<Array<Record<string, any>>> {
  return new Promise((resolve, reject) => {
    const s = createConnection(server.path);
    let buf = '';
    const out: Array<Record<string, any>> = [];
    s.setEncoding('utf8');
    s.on('data', (c: string) => {
      buf += c;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) { out.push(JSON.parse(buf.slice(0, i))); buf = buf.slice(i + 1); }
      if (out.length >= n) { s.destroy(); resolve(out); }
    });
    s.on('close', () => resolve(out));
    s.on('error', reject);
    s.write(lines.join(''));
  });
}

describe('control protocol v1', () => {
  it('answers requests in order with their ids', async () => {
    const rs = await raw([
      JSON.stringify({ v: 1, id: 5, op: 'ls', args: { path: '/sys/vbus/instances' } }) + '\n',
      JSON.stringify({ v: 1, id: 6, op: 'hello' }) + '\n',
    ], 2);
    expect(rs.map((r) => [r.id, r.ok])).toEqual([[5, true], [6, true]]);
    expect(rs[0]!.result).toEqual(['vm1']);
    expect(rs[1]!.result).toMatchObject({ v: CONTROL_PROTOCOL_VERSION, name: 'proto', pid: process.pid, scope: 'owner', buses: ['vm1'] });
  });

  it('refuses another version, a non-JSON line and an unknown operation', async () => {
    const rs = await raw(['{"v":2,"id":1,"op":"hello"}\n', 'not json\n', '{"v":1,"id":3,"op":"format-disk"}\n'], 3);
    expect(rs[0]!.error.code).toBe('EPROTO');
    expect(rs[0]!.error.message).toContain('version 2 requested; this runtime speaks version 1');
    expect(rs[1]!.error.code).toBe('EPROTO');
    expect(rs[2]).toMatchObject({ id: 3, ok: false, error: { code: 'ENOSYS', errno: 38 } });
  });

  it('an over-long line gets EMSGSIZE and the connection closes', async () => {
    const rs = await raw(['x'.repeat(MAX_LINE_BYTES + 10)], 1);
    expect(rs).toEqual([expect.objectContaining({ ok: false, error: expect.objectContaining({ code: 'EMSGSIZE' }) })]);
  });

  it('path operations give adminView(host)\'s results and errors, and a failed one changes nothing', async () => {
    const c = await ControlClient.connect(server.path);
    try {
      expect(await c.request('tree', { path: '/sys/vbus' })).toBe(adminView(host).tree('/sys/vbus'));
      await c.request('mkdir', { path: '/config/vbus/devices/r0' });
      const before = adminView(host).dump('/');
      const err = await c.request('write', { path: '/config/vbus/devices/r0/type', value: 'nope' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VbusError);
      expect((err as VbusError).code).toBe('ENOENT');
      expect((err as VbusError).message).toContain('write /config/vbus/devices/r0/type: No such file or directory');
      expect(adminView(host).dump('/')).toBe(before);
      await c.request('write', { path: '/config/vbus/devices/r0/type', value: 'vrng' });
      await c.request('ln', { target: '/config/vbus/devices/r0', link: '/config/vbus/instances/vm1/' });
      expect(host.bus('vm1')!.devices().map((d) => d.device.name)).toEqual(['r0']);
      expect(await c.request('cat', { path: '/sys/vbus/instances/vm1/devices/0/type' })).toBe('virtual-entropy\n');
      await c.request('rm', { path: '/config/vbus/instances/vm1/r0' });
      await c.request('rmdir', { path: '/config/vbus/devices/r0' });
      expect(host.device('r0')).toBeUndefined();
    } finally { c.close(); }
  });

  it('a second runtime of the same name is refused while the first answers', async () => {
    const other = new VbusHost();
    const e = await ControlServer.start(other, { name: 'proto', dir: join(work, 'rt') }).catch((x: unknown) => x);
    expect((e as VbusError).code).toBe('EADDRINUSE');
    other.release();
  });
});

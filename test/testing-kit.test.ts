/**
 * vbus/testing: a device model tested through the harness and a worker-less mock
 * guest, over a real bus member and the real call slot, rings and event ring.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { VbusError, type DeviceClassSpec, type DeviceConnection } from '../dist/src/index.js';
import { DeviceHarness, Sequence, Verifier } from '../dist/src/testing/index.js';

const harnesses: DeviceHarness[] = [];
afterEach(async () => { for (const h of harnesses.splice(0)) await h.release(); });

/** Sums bytes (func 1), echoes (func 2), refuses version 2, never answers func 9. */
function sumClass(log: string[]): DeviceClassSpec {
  return {
    name: 'test-sum',
    interfaces: ['test-sum'],
    create: () => ({
      open(conn: DeviceConnection) {
        if (conn.version !== 1) throw new VbusError('ENOTSUP', `test-sum speaks version 1, not ${conn.version}`);
        log.push(`open v${conn.version}`);
      },
      call(_conn: DeviceConnection, func: number, payload: Uint8Array, out: Uint8Array) {
        if (func === 1) { let s = 0; for (const b of payload) s += b; new DataView(out.buffer, out.byteOffset).setUint32(0, s, true); return 4; }
        if (func === 2) { const copy = payload.slice(); out.set(copy); return copy.length; }
        if (func === 9) return new Promise<number>(() => {});
        return -38; // ENOSYS
      },
      close() { log.push('close'); },
    }),
  };
}

function start(spec: DeviceClassSpec): DeviceHarness {
  const h = DeviceHarness.start({ deviceClass: spec });
  harnesses.push(h);
  return h;
}

describe('vbus/testing', () => {
  it('a mock guest sees the device, opens it, calls it and closes it, in one thread', async () => {
    const log: string[] = [];
    const h = start(sumClass(log));
    const g = h.guest();
    const dev = await g.waitForDevice('test-sum');
    expect(dev.id).toBe(h.id);
    const c = await g.open(dev.id);
    const r = await c.call(1, new Uint8Array([1, 2, 3, 250]));
    expect(new DataView(r.buffer, r.byteOffset).getUint32(0, true)).toBe(256);
    const seq = new Sequence(7, c.payloadMax);
    const v = new Verifier(7, c.payloadMax);
    for (let i = 0; i < 200; i++) {
      seq.next();
      const back = await c.call(2, seq.bytes());
      expect(v.check(back, 0, back.length, seq.tag)).toBeNull();
    }
    expect(v.count).toBe(200);
    await expect(c.call(3)).rejects.toMatchObject({ code: 'ENOSYS' });
    await c.close();
    expect(log).toEqual(['open v1', 'close']);
  });

  it('errors come back typed: a refused version, a model that never answers (bounded), an unknown id', async () => {
    const h = start(sumClass([]));
    const g = h.guest();
    await g.waitForDevice('test-sum');
    await expect(g.open(h.id, 2)).rejects.toMatchObject({ code: 'ENOTSUP' });
    await expect(g.open(h.id + 40)).rejects.toMatchObject({ code: 'ENOENT' });
    const c = await g.open(h.id);
    await expect(c.call(9, undefined, { timeoutMs: 100 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    await expect(g.waitForDevice('no-such-iface', { timeoutMs: 50 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('a guest that leaves gets its connections closed by the host; unplug shows in devices()', async () => {
    const log: string[] = [];
    const h = start(sumClass(log));
    const a = h.guest();
    const b = h.guest();
    expect(a.memberId).not.toBe(b.memberId);
    await a.waitForDevice('test-sum');
    await a.open(h.id);
    a.leave();
    expect(log).toEqual(['open v1', 'close']);
    expect(h.bus.memberCount).toBe(1);
    await b.waitForDevice('test-sum');
    h.host.unlink(h.bus, h.device);
    for (let i = 0; i < 100 && b.devices().length > 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(b.devices()).toEqual([]);
  });
});

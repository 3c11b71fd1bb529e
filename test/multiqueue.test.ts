// Multiqueue venet and vdisk: a guest asks for N queue pairs (VENET_F_MQ / VDISK_F_MQ),
// the admin's `queues` attribute caps it, and a guest with several threads (children it
// spawned, each handed one pair) drives one device at once without a lock: every pair
// carries sequence-numbered traffic checked byte for byte, and a hostile write to one
// pair's ring faults that pair and no other. In host and backend placement.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  VbusHost, adminView, registerVenetClasses, vdiskClass, VENET_F_MQ, VDISK_F_MQ,
  type Bus, type GuestWorker,
} from '../dist/src/index.js';
import { loadTopologyFile } from '../dist/src/topology/load-file.js';
import { buildTopology } from '../dist/src/topology/build.js';

const MQ_GUEST = new URL('./fixtures/guest-mq.mjs', import.meta.url);
const PLACEMENTS = ['host', 'backend'] as const;

let host: VbusHost | undefined;
afterEach(async () => {
  if (host) { await host.connector.release(); host.release(); host = undefined; }
});

type Cls = 'venet' | 'vdisk';
type Msg = Record<string, any>;

/** A host with one device of `cls` (`lo0` loopback or `d0` memory disk) on bus b0, placed as asked, `queues` set. */
function makeHost(cls: Cls, placement: 'host' | 'backend', queues: string): { bus: Bus; name: string } {
  host = new VbusHost();
  registerVenetClasses(host);
  host.registerClass(vdiskClass);
  const bus = host.createBus('b0', { memoryBytes: 16 << 20 });
  const name = cls === 'venet' ? 'lo0' : 'd0';
  const dev = host.createDevice(name);
  host.setType(dev, cls === 'venet' ? 'venet-loopback' : 'vdisk');
  if (cls === 'vdisk') dev.setAttr('capacity', String(4 << 20));
  dev.setAttr('queues', queues);
  host.setPlacement(dev, placement);
  host.link(bus, dev);
  return { bus, name };
}

/** Collects a guest's messages; `next(pred)` resolves with the first (past or future) that matches. */
function inbox(g: GuestWorker): { next(pred: (m: Msg) => boolean, timeoutMs?: number): Promise<Msg>; all: Msg[] } {
  const all: Msg[] = [];
  const waiters = new Set<() => void>();
  let failed: Error | null = null;
  g.onMessage((m) => { all.push(m as Msg); for (const w of waiters) w(); });
  g.onError((e) => { failed = e; for (const w of waiters) w(); }); // a guest that fails ends the wait with its error
  return {
    all,
    next(pred, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          if (failed) { waiters.delete(check); clearTimeout(t); reject(failed); return true; }
          const m = all.find(pred);
          if (m) { waiters.delete(check); clearTimeout(t); resolve(m); }
          return m !== undefined;
        };
        const t = setTimeout(() => { waiters.delete(check); reject(new Error(`no matching message in ${timeoutMs} ms; got ${JSON.stringify(all)}`)); }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
  };
}

interface Run { queues: number; features: number; results: Msg[] }

/**
 * Starts the parent guest asking for `queues` pairs, waits for its children, lets every
 * thread run at once, collects one result per pair, then closes children and parent.
 */
async function runThreads(bus: Bus, cls: Cls, queues: number, n: number, hostilePair = -1, beforeClose?: () => Promise<void>): Promise<Run> {
  const opts = cls === 'venet' ? { txBytes: 1 << 15, rxBytes: 1 << 15 } : { bufferBytes: 1 << 18, queueDepth: 32 };
  const parent = host!.spawnGuest(bus, MQ_GUEST, { data: { role: 'parent', cls, dev: 0, queues, n, hostilePair, opts } });
  const pin = inbox(parent);
  const opened = await pin.next((m) => m.event === 'opened');
  const { ids } = await pin.next((m) => m.event === 'children');
  const threads = [{ g: parent, box: pin }, ...(ids as number[]).map((id) => { const g = host!.connector.guest(id)!; return { g, box: inbox(g) }; })];
  for (const t of threads) t.g.postMessage({ go: true });
  const results = await Promise.all(threads.map((t) => t.box.next((m) => m.event === 'result')));
  await beforeClose?.(); // while every connection is still open (closing races a device still polling its rings)
  for (const t of threads.slice(1)) { t.g.postMessage({ close: true }); await t.box.next((m) => m.event === 'closed'); }
  parent.postMessage({ close: true });
  await pin.next((m) => m.event === 'closed');
  return { queues: opened.queues, features: opened.features, results: results.sort((a, b) => a.pair - b.pair) };
}

function expectByteExact(cls: Cls, r: Msg, n: number): void {
  if (cls === 'venet') expect(r).toMatchObject({ sent: n, got: n, bad: 0, wrongPair: 0 });
  else expect(r).toMatchObject({ written: n, readOk: n, bad: 0 });
}

function attr(name: string, key: string): string {
  return adminView(host!).read(`/config/vbus/devices/${name}/${key}`).trim();
}

describe.each(PLACEMENTS)('multiqueue, device in the %s thread', (placement) => {
  describe.each(['venet', 'vdisk'] as const)('%s', (cls) => {
    it('4 pairs granted under a cap of 4: four guest threads carry byte-exact sequence-numbered traffic at once', async () => {
      const { bus, name } = makeHost(cls, placement, '4');
      expect(attr(name, 'queues')).toBe('4');
      const n = cls === 'venet' ? 400 : 48;
      let counted = -1;
      const r = await runThreads(bus, cls, 4, n, -1, async () => { counted = Number(attr(name, cls === 'venet' ? 'faults' : 'errors')); });
      expect(r.queues).toBe(4);
      expect(r.features).toBe(cls === 'venet' ? VENET_F_MQ : VDISK_F_MQ);
      expect(r.results.map((x) => x.pair)).toEqual([0, 1, 2, 3]);
      for (const x of r.results) expectByteExact(cls, x, n);
      if (cls === 'venet') expect(attr(name, 'negotiated').split(',')).toContain('mq');
      expect(counted).toBe(0);
      expect(Number(attr(name, cls === 'venet' ? 'faults' : 'errors'))).toBe(0); // closing faults nothing either
    });

    it('asking for more than the admin allows gets the cap; the default cap of 1 means no multiqueue', async () => {
      const { bus, name } = makeHost(cls, placement, '3');
      const r = await runThreads(bus, cls, 8, 16);
      expect(r.queues).toBe(3);
      for (const x of r.results) expectByteExact(cls, x, 16);
      adminView(host!).write(`/config/vbus/devices/${name}/queues`, '1\n'); // applies to later negotiations
      const one = await runThreads(bus, cls, 4, 16);
      expect(one.queues).toBe(1);
      expect(one.features).toBe(0);
      expect(one.results).toHaveLength(1);
      expectByteExact(cls, one.results[0]!, 16);
    });

    it('a hostile write to one pair\'s ring faults that pair only: the other pairs stay byte-exact', async () => {
      const { bus, name } = makeHost(cls, placement, '4');
      const counter = cls === 'venet' ? 'faults' : 'errors';
      expect(Number(attr(name, counter))).toBe(0);
      const n = cls === 'venet' ? 300 : 32;
      let faults = -1;
      const r = await runThreads(bus, cls, 4, n, 2, async () => {
        await until(() => Number(attr(name, counter)) >= 1);
        faults = Number(attr(name, counter));
      });
      expect(r.results.find((x) => x.pair === 2)).toMatchObject({ hostile: true });
      for (const x of r.results.filter((y) => y.pair !== 2)) expectByteExact(cls, x, n);
      expect(faults).toBe(1); // that pair, once
      // And the faulted pair's guest is the only one harmed: a new guest gets 4 working pairs.
      const before = Number(attr(name, counter));
      let after = -1;
      const again = await runThreads(bus, cls, 4, 16, -1, async () => { after = Number(attr(name, counter)); });
      for (const x of again.results) expectByteExact(cls, x, 16);
      expect(after).toBe(before);
    });
  });
});

describe('the queues attribute', () => {
  it.each(['venet', 'vdisk'] as const)('%s: refuses invalid values naming the key, and changes nothing', (cls) => {
    const { name } = makeHost(cls, 'host', '2');
    for (const bad of ['0', '65', 'many', '2.5', '-1', '']) {
      expect(() => adminView(host!).write(`/config/vbus/devices/${name}/queues`, `${bad}\n`)).toThrow(expect.objectContaining({ code: 'EINVAL', message: expect.stringMatching(/queues/) }));
      expect(attr(name, 'queues')).toBe('2');
    }
    adminView(host!).write(`/config/vbus/devices/${name}/queues`, ' 64\n');
    expect(attr(name, 'queues')).toBe('64');
  });

  it('is settable in a topology file through the class\'s own parser; a bad value names the attribute', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vbus-mq-'));
    try {
      const doc = (q: string): string => `version: 1
classes:
  - builtin: vdisk
  - builtin: venet-loopback
buses:
  - { name: b0, memory: 4MiB }
devices:
  - { name: d0, type: vdisk, attributes: { capacity: 1MiB, queues: ${q} } }
  - { name: lo0, type: venet-loopback, attributes: { queues: 3 } }
links:
  - { bus: b0, device: d0 }
`;
      writeFileSync(join(dir, 'good.yaml'), doc('4'));
      writeFileSync(join(dir, 'bad.yaml'), doc('99'));
      host = new VbusHost();
      buildTopology(host, await loadTopologyFile(join(dir, 'good.yaml')));
      expect(attr('d0', 'queues')).toBe('4');
      expect(attr('lo0', 'queues')).toBe('3');
      const err = await loadTopologyFile(join(dir, 'bad.yaml')).then(() => null, (e: unknown) => e as { code: string; message: string });
      expect(err?.code).toBe('EINVAL');
      expect(err?.message).toMatch(/\/devices\/0\/attributes\/queues/);
      expect(err?.message).toMatch(/queues "99" must be an integer from 1 to 64/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

async function until(fn: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the vdisk completion waiter with several pairs', () => {
  it('spins only while every pair\'s thread and the device\'s can each have a core', async () => {
    const { completionSpin, DEFAULT_COMPLETION_SPIN, NO_COMPLETION_SPIN, coreCount } = await import('../dist/src/internal.js');
    const cores = coreCount();
    expect(completionSpin(cores)).toEqual(NO_COMPLETION_SPIN); // cores pairs + the device: one thread more than cores
    expect(completionSpin(64)).toEqual(NO_COMPLETION_SPIN);
    expect(NO_COMPLETION_SPIN.fixed).toBe(0);
    if (cores >= 2) expect(completionSpin(cores - 1)).toEqual(DEFAULT_COMPLETION_SPIN); // e.g. one queue on 2 cores
    else expect(completionSpin(1)).toEqual(NO_COMPLETION_SPIN); // one core: the device and the waiter share it
  });
});

describe('the most queue pairs', () => {
  it('a vdisk connection sets up all 64 pairs (192 regions), and a venet port 64 pairs and its EVENT ring', async () => {
    const { MockGuest } = await import('../dist/src/testing/index.js');
    const {
      VDISK_FN_NEGOTIATE, VDISK_MAX_QUEUES, VDISK_Q_REQUEST, VDISK_Q_COMPLETE, VDISK_Q_DATA, vdiskQueue, VDISK_VERSION,
      VENET_FUNC_NEGOTIATE, VENET_MAX_QUEUES, VENET_QUEUE_TX, VENET_QUEUE_RX, VENET_QUEUE_EVENT, venetQueue, VENET_VERSION,
    } = await import('../dist/src/internal.js');
    const { SHM_RING_TO_DEVICE, SHM_RING_TO_GUEST, SHM_BUFFER } = await import('../dist/assembly/layout/callslot.js');
    host = new VbusHost();
    registerVenetClasses(host);
    host.registerClass(vdiskClass);
    const bus = host.createBus('wide', { memoryBytes: 8 << 20 });
    const disk = host.createDevice('d0');
    host.setType(disk, 'vdisk');
    disk.setAttr('capacity', String(1 << 20));
    disk.setAttr('queues', String(VDISK_MAX_QUEUES));
    host.link(bus, disk);
    const net = host.createDevice('lo0');
    host.setType(net, 'venet-loopback');
    net.setAttr('queues', String(VENET_MAX_QUEUES));
    host.link(bus, net);
    const g = MockGuest.join(host, bus);
    const offer = (mq: number, n: number): Uint8Array => { const b = new Uint8Array(8); const v = new DataView(b.buffer); v.setUint32(0, mq, true); v.setUint32(4, n, true); return b; };

    const dc = await g.open((await g.waitForDevice('virtual-block')).id, VDISK_VERSION);
    const dr = new DataView((await dc.call(VDISK_FN_NEGOTIATE, offer(VDISK_F_MQ, VDISK_MAX_QUEUES))).buffer);
    expect(dr.getUint32(4, true)).toBe(VDISK_MAX_QUEUES);
    for (let p = 0; p < VDISK_MAX_QUEUES; p++) {
      await dc.shm(vdiskQueue(p, VDISK_Q_REQUEST), 1024, SHM_RING_TO_DEVICE);
      await dc.shm(vdiskQueue(p, VDISK_Q_COMPLETE), 256, SHM_RING_TO_GUEST);
      await dc.shm(vdiskQueue(p, VDISK_Q_DATA), 4096, SHM_BUFFER);
    }

    const nc = await g.open((await g.waitForDevice('virtual-ethernet')).id, VENET_VERSION);
    const nr = new DataView((await nc.call(VENET_FUNC_NEGOTIATE, offer(VENET_F_MQ, VENET_MAX_QUEUES))).buffer);
    expect(nr.getUint32(4, true)).toBe(VENET_MAX_QUEUES);
    await nc.shm(VENET_QUEUE_EVENT, 1024, SHM_RING_TO_GUEST);
    for (let p = 0; p < VENET_MAX_QUEUES; p++) {
      await nc.shm(venetQueue(p, VENET_QUEUE_RX), 1024, SHM_RING_TO_GUEST);
      await nc.shm(venetQueue(p, VENET_QUEUE_TX), 1024, SHM_RING_TO_DEVICE);
    }
    // A region beyond the pairs negotiated is still refused by the device.
    await expect(nc.shm(venetQueue(VENET_MAX_QUEUES, VENET_QUEUE_TX), 1024, SHM_RING_TO_DEVICE)).rejects.toMatchObject({ code: 'EINVAL' });
    g.leave();
  });
});

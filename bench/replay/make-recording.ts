/**
 * The traffic the replay benchmark uses when it is given no recording: a venet-loopback
 * echoing frames and a vdisk taking writes with 32 in flight, each recorded from the
 * test guest (test/fixtures/guest-state.mjs) in a real worker.
 */
import { VbusHost, registerVenetClasses, vdiskClass, recordDevice, type Recording, type GuestWorker } from '../../src/index.js';

const GUEST_URL = new URL('../../../test/fixtures/guest-state.mjs', import.meta.url);

type Cmd = (cmd: string, args?: Record<string, unknown>) => Promise<Record<string, any>>;

async function guest(host: VbusHost, bus: string): Promise<{ cmd: Cmd; g: GuestWorker }> {
  const g = host.spawnGuest(bus, GUEST_URL);
  let next = 1;
  const pending = new Map<number, (m: Record<string, any>) => void>();
  let ready!: () => void;
  const isReady = new Promise<void>((r) => { ready = r; });
  g.onMessage((m) => {
    const msg = m as Record<string, any>;
    if (msg.event === 'ready') ready();
    const p = pending.get(msg.id);
    if (p) { pending.delete(msg.id); p(msg); }
  });
  await isReady;
  const cmd: Cmd = (c, args = {}) => new Promise((res, rej) => {
    const id = next++;
    pending.set(id, (m) => (m.ok ? res(m) : rej(new Error(`${c}: ${m.error} ${m.message}`))));
    g.postMessage({ id, cmd: c, ...args });
  });
  return { cmd, g };
}

/** Records `frames` loopback frames of `len` bytes. */
export async function recordLoopback(frames: number, len: number): Promise<Recording> {
  const host = new VbusHost();
  registerVenetClasses(host);
  try {
    const bus = host.createBus('lan0', { memoryBytes: 8 << 20 });
    const dev = host.createDevice('lo0');
    host.setType(dev, 'venet-loopback');
    const rec = recordDevice(dev);
    host.link(bus, dev);
    const { cmd } = await guest(host, 'lan0');
    const n = await cmd('openNet', { dev: 0 });
    await cmd('sendFrames', { dev: 0, dst: n.mac, from: 0, count: frames, len });
    await cmd('frames', { dev: 0, atLeast: frames });
    host.unlink(bus, dev);
    return rec.stop();
  } finally {
    await host.connector.release();
    host.release();
  }
}

/** Records `writes` 4 KiB writes to a memory vdisk, 32 in flight. */
export async function recordVdisk(writes: number): Promise<Recording> {
  const host = new VbusHost();
  host.registerClass(vdiskClass);
  try {
    const bus = host.createBus('lan0', { memoryBytes: 16 << 20 });
    const dev = host.createDevice('disk0');
    host.setType(dev, 'vdisk');
    dev.setAttr('capacity', String(4 << 20));
    const rec = recordDevice(dev);
    host.link(bus, dev);
    const { cmd } = await guest(host, 'lan0');
    await cmd('openDisk', { dev: 0 });
    for (let at = 0; at < writes; at += 32) {
      await cmd('writeBlocks', { dev: 0, len: 4096, blocks: Array.from({ length: Math.min(32, writes - at) }, (_, i) => (at + i) % 1024), tag: at });
    }
    host.unlink(bus, dev);
    return rec.stop();
  } finally {
    await host.connector.release();
    host.release();
  }
}

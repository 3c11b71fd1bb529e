/**
 * The demo's guest program, platform-neutral: the same code runs in a Node worker
 * thread (guest-node.ts) and in a browser module Web Worker (web/demo-guest.js). It
 * binds a driver to each interface type; every probed device gets a task:
 *
 *  - virtual-ethernet: sends frames in batches (broadcast until it has heard a peer,
 *    then unicast to the last sender, so a switch learns and forwards) and counts what
 *    it receives;
 *  - virtual-block: keeps several write / read-back / compare chains in flight, each on
 *    its own stripe of the disk (so the device batches requests and completions);
 *  - virtual-console: writes a status line twice a second;
 *  - virtual-entropy: reads 64 bytes ten times a second.
 *
 * Devices are opened through syncSetup, so the same program also runs where a worker
 * cannot block (the message transport in a browser). remove() stops the task and closes the device. Everything the guest does is reported
 * to the host as `demo:log` and `demo:stats` messages (guest-protocol.ts); `demo:stop`
 * makes it close its devices and exit 0.
 */
import type { Guest } from '../guest/join.js';
import type { GuestDevice } from '../guest/connector.js';
import { VbusError } from '../errors.js';
import { macrotask } from '../core/macrotask.js';
import { Prng } from '../testing/prng.js';
import { syncSetup } from '../transport/sync-gate.js';
import { ETH_OFF_SRC, ETH_OFF_TYPE, ETH_ALEN, ETH_HEADER_BYTES, macToText } from '../devices/venet/abi.js';
import {
  VENET_INTERFACE, VDISK_INTERFACE, CONSOLE_INTERFACE, ENTROPY_INTERFACE,
  openNet, openBlock, openConsole, openEntropy,
} from './guest-devices.js';
import { emptyCounters, type DemoGuestData, type GuestToHost, type HostToGuest } from './guest-protocol.js';

/** Ethertype of the demo's frames (IEEE 802 local experimental). */
const DEMO_ETHERTYPE = 0x88b5;
/** Marker at the start of a demo frame's payload. */
const DEMO_MARK = 0x76627573; // 'vbus'

/** Write / read-back chains a disk task keeps in flight. */
const DISK_CHAINS = 8;

interface Task { stop(): void; done: Promise<void> }

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs the demo guest until the host sends `demo:stop`. */
export function runDemoGuest(guest: Guest): void {
  const data = (guest.data ?? {}) as Partial<DemoGuestData>;
  const name = data.name ?? `guest-${guest.boot.memberId}`;
  const frameBytes = Math.max(ETH_HEADER_BYTES + 8, data.frameBytes ?? 256);
  const batch = Math.max(1, data.batch ?? 16);
  const counters = emptyCounters();
  const tasks = new Map<number, Task>();
  const prng = new Prng(data.seed ?? guest.boot.memberId);
  const random = (): number => prng.next();
  const send = (m: GuestToHost): void => guest.post(m);
  const log = (event: 'probe' | 'remove' | 'error' | 'info', text: string, dev?: GuestDevice): void => {
    send({ type: 'demo:log', guest: name, event, text, ...(dev ? { device: dev.id, iface: dev.type } : {}) });
  };
  /** A device unplugged under a running call answers ENODEV (or the connection is closed): not an error. */
  const gone = (e: unknown): boolean => e instanceof VbusError && (e.code === 'ENODEV' || e.code === 'EBADF' || e.code === 'ENOENT');

  /** Starts `body` as a task of device `dev`; it runs until stop() or it ends. */
  const start = (dev: GuestDevice, body: (alive: () => boolean) => Promise<void>, close: () => void): void => {
    let stopped = false;
    const alive = (): boolean => !stopped;
    const done = body(alive).catch((e: unknown) => {
      if (!stopped && !gone(e)) log('error', `${dev.type} #${dev.id}: ${(e as Error)?.message ?? String(e)}`, dev);
    }).finally(() => { close(); });
    tasks.set(dev.id, { stop: () => { stopped = true; }, done });
    counters.devices = tasks.size;
  };

  const stopTask = async (id: number): Promise<void> => {
    const t = tasks.get(id);
    if (!t) return;
    tasks.delete(id);
    counters.devices = tasks.size;
    t.stop();
    await t.done;
  };

  guest.driver(VENET_INTERFACE, {
    async probe(dev) {
      const net = await syncSetup(guest, () => openNet(guest, dev.id));
      log('probe', `${dev.type} #${dev.id}: mac ${net.macText}, mtu ${net.mtu}, link ${net.linkUp ? 'up' : 'down'}`, dev);
      const frames: Uint8Array[] = [];
      for (let i = 0; i < batch; i++) {
        const f = new Uint8Array(Math.min(frameBytes, net.maxFrame));
        f.fill(0xff, 0, ETH_ALEN); // broadcast until a peer is heard
        f.set(net.mac, ETH_OFF_SRC);
        f[ETH_OFF_TYPE] = DEMO_ETHERTYPE >> 8; f[ETH_OFF_TYPE + 1] = DEMO_ETHERTYPE & 0xff;
        new DataView(f.buffer).setUint32(ETH_HEADER_BYTES, DEMO_MARK);
        frames.push(f);
      }
      let peerKnown = false;
      net.onReceive((frame) => {
        counters.framesRx++;
        counters.bytesRx += frame.length;
        const ok = frame.length >= ETH_HEADER_BYTES + 4
          && ((frame[ETH_OFF_TYPE]! << 8) | frame[ETH_OFF_TYPE + 1]!) === DEMO_ETHERTYPE
          && new DataView(frame.buffer, frame.byteOffset, frame.length).getUint32(ETH_HEADER_BYTES) === DEMO_MARK;
        if (!ok) { counters.framesBad++; return; }
        if (!peerKnown) {
          peerKnown = true;
          const src = frame.subarray(ETH_OFF_SRC, ETH_OFF_SRC + ETH_ALEN);
          for (const f of frames) f.set(src, 0);
          log('info', `${dev.type} #${dev.id}: heard ${macToText(src)}, sending unicast to it`, dev);
        }
      });
      start(dev, async (alive) => {
        let turns = 0;
        while (alive()) {
          const n = net.sendBatch(frames);
          counters.framesTx += n;
          if (n < frames.length) {
            // TX ring full: ask for a space signal, re-check, then park without blocking the worker's loop.
            await net.tx.spaceWaiter.parkAsync(() => net.tx.ring.used() <= net.tx.ring.capacity / 2, 50);
          }
          if (++turns % 4 === 0) await macrotask(); // let the receive loop and host messages run
        }
      }, () => net.close());
    },
    remove(dev) { log('remove', `${dev.type} #${dev.id}: removed`, dev); return stopTask(dev.id); },
  });

  guest.driver(VDISK_INTERFACE, {
    async probe(dev) {
      const disk = await syncSetup(guest, () => openBlock(guest, dev.id));
      log('probe', `${dev.type} #${dev.id}: ${disk.capacity} bytes in blocks of ${disk.blockSize}`, dev);
      start(dev, async (alive) => {
        const chunk = Math.max(disk.blockSize, 4096);
        const stripe = Math.floor(disk.capacity / DISK_CHAINS / chunk); // chunks per chain's stripe
        const chain = async (c: number): Promise<void> => {
          const buf = new Uint8Array(chunk);
          const view = new DataView(buf.buffer);
          while (alive()) {
            const offset = (c * stripe + (random() % stripe)) * chunk;
            for (let i = 0; i < buf.length; i += 4) view.setUint32(i, random());
            await disk.write(offset, buf);
            counters.diskWrites++;
            const back = await disk.read(offset, chunk);
            counters.diskReads++;
            if (back.length !== buf.length || back.some((b, i) => b !== buf[i])) counters.diskMismatches++;
          }
        };
        await Promise.all(Array.from({ length: DISK_CHAINS }, (_, c) => chain(c)));
      }, () => disk.close());
    },
    remove(dev) { log('remove', `${dev.type} #${dev.id}: removed`, dev); return stopTask(dev.id); },
  });

  guest.driver(CONSOLE_INTERFACE, {
    async probe(dev) {
      const con = await syncSetup(guest, () => openConsole(guest, dev.id));
      log('probe', `${dev.type} #${dev.id}: console open`, dev);
      start(dev, async (alive) => {
        while (alive()) {
          await con.write(`${name}: frames tx ${counters.framesTx} rx ${counters.framesRx}, disk ${counters.diskWrites}w/${counters.diskReads}r, entropy ${counters.rngBytes} B\n`);
          counters.consoleLines++;
          await sleep(500);
        }
      }, () => con.close());
    },
    remove(dev) { log('remove', `${dev.type} #${dev.id}: removed`, dev); return stopTask(dev.id); },
  });

  guest.driver(ENTROPY_INTERFACE, {
    async probe(dev) {
      const rng = await syncSetup(guest, () => openEntropy(guest, dev.id));
      log('probe', `${dev.type} #${dev.id}: entropy source open`, dev);
      start(dev, async (alive) => {
        while (alive()) {
          counters.rngBytes += (await rng.read(64)).length;
          await sleep(100);
        }
      }, () => rng.close());
    },
    remove(dev) { log('remove', `${dev.type} #${dev.id}: removed`, dev); return stopTask(dev.id); },
  });

  const report = (): void => send({ type: 'demo:stats', guest: name, counters: { ...counters } });
  const timer = setInterval(report, data.reportMs ?? 250);
  guest.onMessage((m) => {
    if ((m as HostToGuest)?.type !== 'demo:stop') return;
    clearInterval(timer);
    void Promise.all([...tasks.keys()].map(stopTask)).then(() => {
      report();
      log('info', 'stopped');
      guest.exit(0);
    });
  });
  // Which kind of thread this is, for the log: a browser's WorkerGlobalScope or a Node worker thread.
  const where = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === 'function' ? 'a module Web Worker' : 'a Node worker thread';
  log('info', `joined bus ${guest.boot.busName} as member ${guest.boot.memberId} in ${where}`);
}

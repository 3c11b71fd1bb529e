/**
 * The demo's host side, platform-neutral: one VbusHost on the current thread (the
 * page's main thread or Node's), built from a topology file ({@link DemoLab.build}: the
 * same builder as `vbus run`) with every model observed, guests started from a given
 * module URL, and a sampler that turns counters into rates. The page (web/demo.js,
 * which fetches examples/topologies/demo.yaml) and `vbus demo` (topology.ts, which reads
 * it) both drive this class; it never blocks its thread (the connector waits with
 * Atomics.waitAsync).
 */
import { VbusHost } from '../host/host.js';
import type { GuestWorker } from '../connector/spawn-guest.js';
import type { BusTransport } from '../core/bus-memory.js';
import { vbusError } from '../errors.js';
import { DEMO_CLASSES } from './device-set.js';
import { HostStats } from '../stats/host-stats.js';
import type { RingReading } from '../stats/region.js';
import { ConsoleModel } from '../devices/vconsole/index.js';
import { emptyCounters, type DemoGuestCounters, type DemoGuestData, type GuestToHost } from './guest-protocol.js';
import { buildTopology } from '../topology/build.js';
import type { Topology } from '../topology/types.js';
import { adminView } from '../admin/index.js';

/** Default bus memory: room for a few guests' rings (64 KiB x 3 per venet device) and call slots. */
export const LAB_BUS_BYTES = 4 * 1024 * 1024;

/** One line of the guest log. */
export interface LabLogEntry {
  /** ms since the lab started. */
  t: number;
  guest: string;
  event: string;
  text: string;
}

/** A guest the lab started. */
export interface LabGuest {
  name: string;
  bus: string;
  worker: GuestWorker;
  counters: DemoGuestCounters;
  /** Whether it has sent its counters at least once (it has joined and probed its devices). */
  reported: boolean;
  /** Exit code once it ended. */
  exitCode: number | null;
}

/** Per-device numbers of one sample. */
export interface DeviceSample {
  name: string;
  type: string;
  links: string[];
  calls: number;
  callsPerSec: number;
  recordsPerSec: number;
  /** venet devices: frames delivered into guests' RX rings, per second. */
  framesPerSec: number;
  rings: RingReading[];
}

/** Everything the page or the CLI shows, at one instant. Rates are over the time since the previous sample. */
export interface LabSample {
  t: number;
  framesPerSec: number;
  callsPerSec: number;
  recordsPerSec: number;
  /** Notifications raised / suppressed per second, over all observed rings. */
  raisedPerSec: number;
  suppressedPerSec: number;
  /** Cumulative raised / suppressed on the rings open now. */
  raised: number;
  suppressed: number;
  /** Used bytes / capacity over all observed rings (0..1), and the fullest ring. */
  occupancy: number;
  maxOccupancy: number;
  /** Guests' own counters, summed (frames received, disk ops, entropy bytes). */
  guestFramesRx: number;
  guestFramesPerSec: number;
  diskOpsPerSec: number;
  guest: DemoGuestCounters;
  devices: DeviceSample[];
  /** Cumulative device-side counts: frames delivered by venet devices, DEVCALLs, ring records handled. */
  totals: { frames: number; calls: number; records: number };
}

interface Prev { t: number; frames: number; calls: number; records: number; raised: number; suppressed: number; guestRx: number; disk: number; perDevice: Map<string, { calls: number; records: number; frames: number }> }

export interface LabOptions {
  /** Module URL of the guest program (Node: dist/src/demo/guest-node.js; browser: web/demo-guest.js). */
  guestUrl: URL;
  /** Keep at most this many log lines (default 500). */
  logLimit?: number;
  /** Register the demo's classes (default true); false when a topology file brings its own ({@link DemoLab.build}). */
  registerClasses?: boolean;
  /** Bus transport of every bus the lab creates or builds (default: the host's choice). */
  transport?: BusTransport;
}

export class DemoLab {
  readonly host: VbusHost;
  readonly guests = new Map<string, LabGuest>();
  readonly log: LabLogEntry[] = [];
  /** Console lines written by guests, by device name. */
  readonly consoleLines: Array<{ device: string; line: string }> = [];
  /** The counters the page and `vbus demo` show: the stats region (src/stats), fed by every device's model. */
  readonly stats: HostStats;
  private readonly logListeners = new Set<(e: LabLogEntry) => void>();
  private readonly t0 = performance.now();
  private prev: Prev | null = null;
  private guestSeq = 0;

  constructor(private readonly opts: LabOptions) {
    // The transport is the host's default, so buses a topology file declares get it too.
    this.host = new VbusHost(opts.transport ? { transport: opts.transport } : {});
    this.stats = new HostStats(this.host);
    if (opts.registerClasses !== false) for (const c of DEMO_CLASSES) this.host.registerClass(this.stats.observe(c.spec));
  }

  /**
   * Builds a topology file's classes, buses, devices and links (all or nothing), its
   * models observed like the demo's own. Its guests are started by the caller
   * ({@link startGuest} with each guest's script).
   */
  build(topo: Topology): void {
    buildTopology(this.host, topo, { wrapClass: (spec) => this.stats.observe(spec) });
    for (const d of this.host.devices()) if (d.model instanceof ConsoleModel) this.watchConsole(d.name, d.model);
  }

  /** The classes registered (the demo's, or those the topology file loaded), with the demo's line on each. */
  classes(): Array<{ name: string; description: string }> {
    return this.host.classes().map((c) => ({ name: c.name, description: DEMO_CLASSES.find((d) => d.spec.name === c.name)?.description ?? '' }));
  }

  createBus(name: string, memoryBytes = LAB_BUS_BYTES): void {
    this.host.createBus(name, { memoryBytes, ...(this.opts.transport ? { transport: this.opts.transport } : {}) });
  }

  /**
   * Creates a device of class `type` with the demo's defaults for the class, then
   * `attrs`. On failure nothing is left behind.
   */
  createDevice(name: string, type: string, attrs: Record<string, string> = {}): void {
    this.host.createDevice(name);
    try {
      this.host.setType(name, type);
      const defaults = DEMO_CLASSES.find((c) => c.spec.name === type)?.defaults ?? {};
      for (const [k, v] of Object.entries({ ...defaults, ...attrs })) this.host.device(name)!.setAttr(k, v);
    } catch (e) {
      this.host.destroyDevice(name);
      throw e;
    }
    const model = this.host.device(name)!.model;
    if (model instanceof ConsoleModel) this.watchConsole(name, model);
  }

  /** Collects what guests write to a console (its memory endpoint) as lines. */
  private watchConsole(device: string, model: ConsoleModel): void {
    const decoder = new TextDecoder();
    let partial = '';
    model.onOutput((bytes) => {
      const parts = (partial + decoder.decode(bytes, { stream: true })).split('\n');
      partial = parts.pop()!.slice(-4096); // a guest that never ends a line cannot grow this without bound
      for (const line of parts) {
        this.consoleLines.push({ device, line });
        if (this.consoleLines.length > 200) this.consoleLines.shift();
      }
    });
  }

  link(bus: string, device: string): number { return this.host.link(bus, device); }

  unlink(bus: string, device: string): void { this.host.unlink(bus, device); }

  /** Unlinks a device everywhere and destroys it. */
  destroyDevice(name: string): void {
    const d = this.host.device(name);
    if (!d) throw vbusError('ENOENT', `no device ${name}`, { device: name });
    for (const l of d.links()) this.host.unlink(l.bus, d);
    this.host.destroyDevice(d);
  }

  /** Destroys a bus; its guests must be stopped and its devices unlinked first (EBUSY otherwise). */
  destroyBus(name: string): void { this.host.destroyBus(name); }

  /** Starts a guest on `bus`; its messages feed the log and the counters. */
  startGuest(bus: string, name?: string, data: Partial<DemoGuestData> = {}, url: URL = this.opts.guestUrl): LabGuest {
    const n = name ?? `guest${++this.guestSeq}`;
    if (this.guests.get(n)?.exitCode === null) throw vbusError('EEXIST', `guest ${n} is running`, { guest: n });
    const start: DemoGuestData = { name: n, seed: 0x5eed + this.guestSeq * 7919, ...data };
    const worker = this.host.spawnGuest(bus, url, { data: start, name: n });
    const g: LabGuest = { name: n, bus, worker, counters: emptyCounters(), reported: false, exitCode: null };
    this.guests.set(n, g);
    worker.onMessage((m) => this.onGuestMessage(g, m as GuestToHost));
    worker.onError((e) => this.addLog(n, 'error', e.message));
    void worker.exited.then(({ code }) => {
      g.exitCode = code;
      this.addLog(n, 'exit', `exited with code ${code}`);
    });
    return g;
  }

  /** Asks a guest to stop; terminates it if it has not exited after `graceMs`. Resolves with its exit code. */
  async stopGuest(name: string, graceMs = 5000): Promise<number> {
    const g = this.guests.get(name);
    if (!g) throw vbusError('ENOENT', `no guest ${name}`, { guest: name });
    if (g.exitCode !== null) return g.exitCode;
    g.worker.postMessage({ type: 'demo:stop' });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'late'>((r) => { timer = setTimeout(() => r('late'), graceMs); });
    const r = await Promise.race([g.worker.exited, late]);
    clearTimeout(timer);
    return (r === 'late' ? await g.worker.terminate() : r).code;
  }

  /**
   * Resolves once every running guest has reported (it joined its bus and probed its
   * devices), or after `timeoutMs` (a busy machine can take seconds to start workers).
   */
  async whenReporting(timeoutMs = 20_000): Promise<void> {
    const end = performance.now() + timeoutMs;
    while ([...this.guests.values()].some((g) => g.exitCode === null && !g.reported) && performance.now() < end) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Stops every running guest. */
  async stopAll(graceMs?: number): Promise<void> {
    await Promise.all([...this.guests.values()].filter((g) => g.exitCode === null).map((g) => this.stopGuest(g.name, graceMs)));
  }

  /** Listens to new log lines. */
  onLog(fn: (e: LabLogEntry) => void): () => void {
    this.logListeners.add(fn);
    return () => { this.logListeners.delete(fn); };
  }

  /** The `/sys/vbus` tree, as the admin view prints it. */
  tree(): string { return adminView(this.host).tree('/sys/vbus'); }

  /** Reads every counter and returns totals plus rates since the previous call. */
  sample(): LabSample {
    const t = performance.now();
    let frames = 0; let calls = 0; let records = 0; let raised = 0; let suppressed = 0;
    let used = 0; let cap = 0; let maxOcc = 0;
    const dt = this.prev ? Math.max(1e-3, (t - this.prev.t) / 1000) : 0;
    const rate = (now: number, before: number | undefined): number => (dt > 0 && before !== undefined ? Math.max(0, now - before) / dt : 0);
    const perDevice = new Map<string, { calls: number; records: number; frames: number }>();
    const devices: DeviceSample[] = [];
    const reading = this.stats.read();
    for (const p of reading.devices) {
      const d = this.host.device(p.name)!;
      const rings = reading.rings.filter((r) => r.device === p.name);
      const f = p.type.startsWith('venet-') ? Number(d.attr('tx_frames')) : 0;
      const before = this.prev?.perDevice.get(p.name);
      perDevice.set(p.name, { calls: p.calls, records: p.records, frames: f });
      frames += f; calls += p.calls; records += p.records;
      for (const r of rings) {
        raised += r.raised; suppressed += r.suppressed;
        used += r.used; cap += r.capacity; maxOcc = Math.max(maxOcc, r.used / r.capacity);
      }
      devices.push({
        name: p.name, type: p.type, links: p.links,
        calls: p.calls, callsPerSec: rate(p.calls, before?.calls), recordsPerSec: rate(p.records, before?.records),
        framesPerSec: rate(f, before?.frames), rings,
      });
    }
    const guest = emptyCounters();
    for (const g of this.guests.values()) for (const k of Object.keys(guest) as Array<keyof DemoGuestCounters>) guest[k] += g.counters[k];
    const disk = guest.diskReads + guest.diskWrites;
    const prev = this.prev;
    // Totals over the rings open now can drop when a connection closes: rates clamp at 0.
    const s: LabSample = {
      t: (t - this.t0) / 1000,
      framesPerSec: rate(frames, prev?.frames),
      callsPerSec: rate(calls, prev?.calls),
      recordsPerSec: rate(records, prev?.records),
      raisedPerSec: rate(raised, prev?.raised),
      suppressedPerSec: rate(suppressed, prev?.suppressed),
      raised, suppressed,
      occupancy: cap > 0 ? used / cap : 0,
      maxOccupancy: maxOcc,
      guestFramesRx: guest.framesRx,
      guestFramesPerSec: rate(guest.framesRx, prev?.guestRx),
      diskOpsPerSec: rate(disk, prev?.disk),
      guest,
      devices,
      totals: { frames, calls, records },
    };
    this.prev = { t, frames, calls, records, raised, suppressed, guestRx: guest.framesRx, disk, perDevice };
    return s;
  }

  /** Stops the guests, then takes everything down (buses, devices, the connector). */
  async release(): Promise<void> {
    await this.stopAll();
    await this.host.connector.release();
    this.host.release();
  }

  private onGuestMessage(g: LabGuest, m: GuestToHost): void {
    if (m?.type === 'demo:stats') { g.counters = { ...emptyCounters(), ...m.counters }; g.reported = true; }
    else if (m?.type === 'demo:log') this.addLog(g.name, m.event, m.text);
  }

  private addLog(guest: string, event: string, text: string): void {
    const e: LabLogEntry = { t: (performance.now() - this.t0) / 1000, guest, event, text };
    this.log.push(e);
    if (this.log.length > (this.opts.logLimit ?? 500)) this.log.shift();
    for (const fn of this.logListeners) fn(e);
  }
}

/**
 * Recording a device: `recordDevice(device, { maxBytes })` wraps the device's model so
 * that every entry into it (the connector's hooks, the host's link hooks, the model's
 * declared entries) is a step of the recording, with the bytes the guest wrote into the
 * device's regions before it, the model's answer, and a digest of what it wrote (see
 * format.ts). The device keeps working for its guests while recorded: it runs on a
 * private copy of its regions, synchronised with the bus at every step (mirror.ts), so
 * what it saw in each step is exactly what the recording holds.
 *
 * Start recording before the device is linked (EBUSY otherwise), so the recording sees
 * every connection from its DEVOPEN on; `stop()` returns the recording and puts the
 * model back as it was (the device must be unlinked again by then, since its open rings
 * live in the private copy only while recorded; EBUSY otherwise). The recording is
 * bounded: past `maxBytes` it keeps no more steps and says `truncated`; the device goes
 * on working.
 */
import { vbusError } from '../errors.js';
import type { Bus } from '../host/bus.js';
import type { Device } from '../host/device.js';
import type { DeviceConnection, ShmRegion } from '../connector/types.js';
import type { BusMemory } from '../core/bus-memory.js';
import type { StateValue } from '../state/codec.js';
import { saveDeviceState } from '../state/device-state.js';
import type { RecordableModel } from './contract.js';
import { RECORDING_VERSION, type Recording, type Step } from './format.js';
import { DeviceMirror, runBytes, type Run } from './mirror.js';
import { argsDigest, runsDigest, toValue } from './values.js';

export interface RecordOptions {
  /** Most bytes of steps to keep (default 64 MiB); later steps are not kept. */
  maxBytes?: number;
}

/** Default bound of a recording. */
export const RECORD_DEFAULT_MAX_BYTES = 64 << 20;

const HOOKS = ['open', 'call', 'shm', 'poll', 'signal', 'close', 'attrChanged'] as const;

type Fn = (...args: unknown[]) => unknown;
type Model = Record<string, unknown> & RecordableModel;

const recording = new WeakSet<object>();

/** A frame on the recorder's stack: the step being made, or a source call inside it. */
interface Frame { step: Step | null; source: boolean }

export class DeviceRecorder {
  private readonly model: Model;
  private readonly initialState;
  private readonly steps: Step[] = [];
  private readonly mirrors = new Map<BusMemory, DeviceMirror>();
  private readonly proxies = new WeakMap<DeviceConnection, DeviceConnection>();
  private readonly connIndex = new WeakMap<DeviceConnection, number>();
  private nextConn = 0;
  private readonly restore: Array<() => void> = [];
  private readonly stack: Frame[] = [];
  private size = 0;
  private cut = false;
  private stopped = false;
  private readonly maxBytes: number;

  /** @internal Use {@link recordDevice}. */
  constructor(readonly device: Device, opts: RecordOptions) {
    this.maxBytes = opts.maxBytes ?? RECORD_DEFAULT_MAX_BYTES;
    if (!Number.isSafeInteger(this.maxBytes) || this.maxBytes < 1024) {
      throw vbusError('EINVAL', `maxBytes ${opts.maxBytes} must be an integer of at least 1024`, { maxBytes: opts.maxBytes });
    }
    const model = device.model as unknown as Model | null;
    if (!model) throw vbusError('ENOENT', `device ${device.name} has no type yet: nothing to record`, { device: device.name });
    if (device.links().length > 0) throw vbusError('EBUSY', `device ${device.name} is linked: start recording before linking it`, { device: device.name });
    if (device.placement !== 'host') throw vbusError('ENOTSUP', `device ${device.name} runs in a backend worker: record it in host placement`, { device: device.name });
    const refusal = (device.model as RecordableModel | null)?.recordRefusal?.() ?? null;
    if (refusal) throw vbusError('EBUSY', `cannot record ${device.name} now: ${refusal}`, { device: device.name });
    if (recording.has(model)) throw vbusError('EBUSY', `device ${device.name} is already being recorded`, { device: device.name });
    this.initialState = saveDeviceState(device); // ENOTSUP for a class without a state format
    this.model = model;
    recording.add(model);
    for (const name of HOOKS) if (typeof model[name] === 'function') this.wrap(name, (orig, args) => this.hook(name, orig, args));
    this.wrap('linked', (orig, args) => this.link(orig, args[0] as Bus, args[1] as number), true);
    this.wrap('unlinked', (orig, args) => this.unlink(orig, args[0] as Bus, args[1] as number), true);
    for (const name of model.recordEntries ?? []) this.wrap(name, (orig, args) => this.entry(name, orig, args));
    for (const name of model.recordSources ?? []) this.wrap(name, (orig, args) => this.source(name, orig, args));
  }

  /** Bytes kept so far. */
  get bytes(): number { return this.size; }
  /** True once the bound was reached. */
  get truncated(): boolean { return this.cut; }
  /** Steps kept so far. */
  get stepCount(): number { return this.steps.length; }

  /** Ends the recording (the device must be unlinked) and returns it. */
  stop(): Recording {
    if (this.stopped) throw vbusError('EINVAL', `the recording of ${this.device.name} was already stopped`);
    if (this.device.links().length > 0) throw vbusError('EBUSY', `device ${this.device.name} is still linked: unlink it before stopping its recording`, { device: this.device.name });
    this.stopped = true;
    for (const undo of this.restore.reverse()) undo();
    recording.delete(this.model);
    return {
      version: RECORDING_VERSION, cls: this.initialState.cls, device: this.device.name, initial: this.initialState,
      steps: this.steps, final: this.cut ? null : saveDeviceState(this.device), truncated: this.cut,
    };
  }

  // ---- wrapping -----------------------------------------------------------------

  private wrap(name: string, body: (orig: Fn, args: unknown[]) => unknown, always = false): void {
    const m = this.model;
    const own = Object.prototype.hasOwnProperty.call(m, name);
    const prev = m[name] as Fn | undefined;
    if (typeof prev !== 'function' && !always) return;
    const orig: Fn = typeof prev === 'function' ? prev.bind(m) : () => undefined;
    m[name] = (...args: unknown[]) => (this.stopped ? orig(...args) : body(orig, args));
    this.restore.push(() => { if (own) m[name] = prev; else delete m[name]; });
  }

  private keep(step: Step, extra: number): void {
    if (this.cut) return;
    this.size += 64 + extra;
    if (this.size > this.maxBytes) { this.cut = true; return; }
    this.steps.push(step);
  }

  // ---- steps --------------------------------------------------------------------

  private link(orig: Fn, bus: Bus, id: number): unknown {
    let mirror = this.mirrors.get(bus.memory);
    if (!mirror) { mirror = new DeviceMirror(bus.memory, bus.memory.byteLength); this.mirrors.set(bus.memory, mirror); names.set(bus.memory, bus.name); }
    const step: Step = { k: 'link', bus: bus.name, id, memoryBytes: bus.memory.byteLength };
    // The model sees the bus with the private memory: what it keys by memory (vrng) matches its connections.
    return this.run(step, () => orig({ name: bus.name, memory: mirror!.priv, host: bus.host }, id));
  }

  private unlink(orig: Fn, bus: Bus, id: number): unknown {
    const mirror = this.mirrors.get(bus.memory);
    const step: Step = { k: 'unlink', bus: bus.name, id };
    return this.run(step, () => orig({ name: bus.name, memory: mirror?.priv ?? bus.memory, host: bus.host }, id));
  }

  private hook(name: (typeof HOOKS)[number], orig: Fn, args: unknown[]): unknown {
    if (name === 'attrChanged') return this.run({ k: 'attr', name: String(args[0]), value: String(args[1]) }, () => orig(...args));
    const real = args[0] as DeviceConnection;
    const mirror = this.mirrors.get(real.memory);
    if (!mirror) return orig(...args); // cannot happen: the device was unlinked when recording started
    const conn = this.proxy(real, mirror);
    const c = this.connIndex.get(real)!;
    if (name === 'open') {
      return this.run({ k: 'open', c, bus: real.busName, member: real.memberId, device: real.deviceId, version: real.version }, () => orig(conn));
    }
    if (name === 'shm') {
      const r = args[1] as ShmRegion;
      const init = mirror.watch(r);
      mirror.apply(init);
      const step: Step = { k: 'shm', c, region: { ...r }, init: init.map(([o, b]) => [o, b]) };
      try {
        return this.run(step, () => orig(conn, r), runBytes(init));
      } catch (e) {
        mirror.unwatch(r.offset);
        throw e;
      }
    }
    if (name === 'call') {
      const payload = args[2] as Uint8Array, out = args[3] as Uint8Array;
      const step: Step = { k: 'call', c, func: args[1] as number, payload: payload.slice(), outBytes: out.length };
      const r = this.run(step, () => orig(conn, args[1], payload, out), payload.length);
      if (typeof r === 'number') { if (r > 0) step['reply'] = out.slice(0, Math.min(r, out.length)); return r; }
      if (r instanceof Promise) {
        step['ret'] = 'promise';
        const at = this.steps.length - 1;
        return r.then((n) => { this.keep({ k: 'settle', of: at, ret: n as number, reply: typeof n === 'number' && n > 0 ? out.slice(0, n) : null }, 0); return n; },
          (e) => { this.keep({ k: 'settle', of: at, err: errCode(e) }, 0); throw e; });
      }
      return r;
    }
    if (name === 'signal') return this.run({ k: 'signal', c, region: (args[1] as ShmRegion).id }, () => orig(conn, args[1]));
    return this.run({ k: name, c }, () => orig(conn));
  }

  private entry(name: string, orig: Fn, args: unknown[]): unknown {
    const top = this.stack[this.stack.length - 1];
    if (top) {
      // Inside a source call: the world called back while we were asking it something;
      // replay makes the same call when it gives that source's answer.
      if (top.source && top.step) ((top.step['nested'] ??= []) as StateValue[]).push({ name, args: args.map((a) => toValue(a, `entry ${name}`)) });
      return orig(...args);
    }
    return this.run({ k: 'entry', name, args: args.map((a) => toValue(a, `entry ${name}`)) }, () => orig(...args));
  }

  private source(name: string, orig: Fn, args: unknown[]): unknown {
    const top = this.stack[this.stack.length - 1];
    if (!top || !top.step) return orig(...args); // outside any step (an admin reading a table): not device traffic
    const rec: Step = { k: 'src', name, args: argsDigest(args) };
    this.stack.push({ step: rec, source: true });
    let ret: unknown;
    try { ret = orig(...args); } finally { this.stack.pop(); }
    rec['ret'] = toValue(ret, `source ${name}`);
    const fills = args.map((a) => (a instanceof Uint8Array ? a.slice() : null));
    if (fills.some((f) => f !== null)) rec['fills'] = fills;
    ((top.step['src'] ??= []) as StateValue[]).push(rec);
    return ret;
  }

  /**
   * Runs one step: the guest's bytes in, the model, the device's bytes out. Every bus the
   * device is on is synchronised, not only the one the step came from: a switch's poll
   * on one bus delivers into rings on the others.
   */
  private run(step: Step, body: () => unknown, extra = 0): unknown {
    const mirrors = [...this.mirrors.values()];
    const nested = this.stack.length > 0;
    let inBytes = 0;
    if (!nested) {
      const ins: StateValue[] = [];
      for (const m of mirrors) {
        const runs = m.pullFromBus();
        inBytes += runBytes(runs);
        if (runs.length) ins.push([this.busName(m), runs.map(([o, b]) => [o, b])]);
      }
      if (ins.length) step['in'] = ins;
    }
    this.stack.push({ step, source: false });
    let ret: unknown;
    try {
      ret = body();
    } catch (e) {
      step['err'] = errCode(e);
      throw e;
    } finally {
      this.stack.pop();
      if (!nested) {
        const outs: StateValue[] = [];
        for (const m of mirrors) {
          const { runs, raised } = m.pushToBus();
          if (runs.length || raised.length) outs.push([this.busName(m), runsDigest(runs), raised]);
        }
        if (outs.length) step['out'] = outs;
        if (!('err' in step) && typeof ret === 'number') step['ret'] = ret;
        if (!('err' in step) && typeof ret === 'boolean') step['ret'] = ret;
        this.keep(step, inBytes + extra);
      }
    }
    return ret;
  }

  private busName(m: DeviceMirror): string {
    for (const [mem, x] of this.mirrors) if (x === m) return names.get(mem) ?? '';
    return '';
  }

  /** The connection as the model sees it while recorded: the private memory, events recorded. */
  private proxy(real: DeviceConnection, mirror: DeviceMirror): DeviceConnection {
    let p = this.proxies.get(real);
    if (p) return p;
    this.connIndex.set(real, this.nextConn++);
    const stack = this.stack;
    p = {
      id: real.id, memory: mirror.priv, busName: real.busName, memberId: real.memberId, deviceId: real.deviceId, version: real.version,
      get shms() { return real.shms; },
      get open() { return real.open; },
      postEvent(code: number, arg?: number): boolean {
        const ok = real.postEvent(code, arg);
        const top = stack[stack.length - 1];
        if (top?.step) ((top.step['ev'] ??= []) as StateValue[]).push([code >>> 0, (arg ?? 0) >>> 0, ok]);
        return ok;
      },
    };
    names.set(real.memory, real.busName);
    this.proxies.set(real, p);
    return p;
  }
}

/** Bus names by memory (a connection knows its bus's name; a mirror only its memory). */
const names = new WeakMap<BusMemory, string>();

function errCode(e: unknown): string {
  return typeof (e as { code?: unknown })?.code === 'string' ? (e as { code: string }).code : 'EIO';
}

/** Starts recording `device` (typed, unlinked, host placement, of a class with a state format). */
export function recordDevice(device: Device, opts: RecordOptions = {}): DeviceRecorder {
  return new DeviceRecorder(device, opts);
}

export type { Run };

/**
 * Replaying a recording against a fresh device of the same class, alone: no guest, no
 * bus endpoint, no other thread. The replayer makes a device of the recorded class,
 * loads the recorded initial state, and makes every recorded step in order: it writes
 * the step's input bytes into the device's private memory (mirror.ts), calls the model
 * as the connector or the world did, gives the model the recorded answers of its
 * sources, and compares what the model does with what the recording says it did:
 * return values, call replies, device events, the digest of the bytes it wrote into its
 * rings and buffers, the signals it raised, the sources it asked. At the end it compares
 * the device's state with the recorded final state. A replay is single-threaded and
 * reads no clock or entropy of its own, so it gives the same result every time.
 *
 * Mismatches are collected, not thrown: a replay that diverges tells at which step and
 * in what (that is the point of replaying a fault). `ok` is true when there are none.
 */
import { VbusError, vbusError } from '../errors.js';
import { VbusHost } from '../host/host.js';
import type { DeviceClassSpec } from '../host/device-class.js';
import type { DeviceConnection, ShmRegion } from '../connector/types.js';
import type { StateValue } from '../state/codec.js';
import type { DeviceState } from '../state/contract.js';
import { loadDeviceState, saveDeviceState } from '../state/device-state.js';
import type { RecordableModel } from './contract.js';
import type { Recording, Step } from './format.js';
import { DeviceMirror, type Run } from './mirror.js';
import { argsDigest, fromValue, runsDigest } from './values.js';

export interface ReplayOptions {
  /** Classes the recording's class is looked up in (the shipped ones: `shippedClasses()` in the entry). */
  classes: readonly DeviceClassSpec[];
  /** Stop at the first mismatch (default false: compare every step). */
  stopAtFirst?: boolean;
  /**
   * Backing files to replay against instead of the recorded ones, by recorded path: a
   * file-backed vdisk reads and writes its file, so it replays against a copy of the
   * file as it was when recording started (the replay writes into that copy). Every
   * saved text equal to a recorded path (`src_path`, the state's `path`) is replaced in
   * the initial state, and replaced back in the final state before it is compared.
   */
  files?: Readonly<Record<string, string>>;
}

export interface ReplayMismatch {
  /** Step number (0-based) or -1 for the final state. */
  step: number;
  /** What differs, e.g. `poll ret`, `call reply`, `out lan0`. */
  what: string;
  recorded: unknown;
  replayed: unknown;
}

export interface ReplayResult {
  /** Steps replayed. */
  steps: number;
  mismatches: ReplayMismatch[];
  /** The device's state after the last step. */
  final: DeviceState;
  /** True when no step and not the final state differ. */
  ok: boolean;
}

type Fn = (...args: unknown[]) => unknown;
type Model = Record<string, unknown> & RecordableModel;

interface FakeConn extends DeviceConnection {
  shms: ShmRegion[];
  open: boolean;
}

/** Replays `rec` (see the module comment). ENOENT if its class is not among `opts.classes`. */
export function replayRecording(rec: Recording, opts: ReplayOptions): ReplayResult {
  const spec = opts.classes.find((c) => c.name === rec.cls);
  if (!spec) throw vbusError('ENOENT', `the recording is of class ${rec.cls}, which is not among the classes given (${opts.classes.map((c) => c.name).join(', ')})`, { cls: rec.cls });
  const host = new VbusHost();
  try {
    host.registerClass(spec);
    const device = host.createDevice(rec.device);
    host.setType(device, rec.cls);
    const files = new Map(Object.entries(opts.files ?? {}));
    loadDeviceState(device, renamePaths(rec.initial, files));
    const back = new Map([...files].map(([a, b]) => [b, a]));
    return new Replay(device.model as unknown as Model, rec, opts.stopAtFirst === true).run(() => renamePaths(saveDeviceState(device), back));
  } finally {
    host.release();
  }
}

/** `state` with every attribute and top-level data text found in `paths` replaced by its mapping. */
function renamePaths(state: DeviceState, paths: ReadonlyMap<string, string>): DeviceState {
  if (paths.size === 0) return state;
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries(state.attrs)) attrs[k] = paths.get(v) ?? v;
  let data = state.data;
  if (data !== null && typeof data === 'object' && !Array.isArray(data) && !(data instanceof Uint8Array)) {
    const d: Record<string, StateValue> = {};
    for (const [k, v] of Object.entries(data)) d[k] = typeof v === 'string' ? paths.get(v) ?? v : v;
    data = d;
  }
  return { ...state, attrs, data };
}

class Replay {
  readonly mismatches: ReplayMismatch[] = [];
  private readonly mirrors = new Map<string, DeviceMirror>();
  private readonly conns: FakeConn[] = [];
  private driving = false;
  private at = 0;
  /** The step being replayed: sources and events are taken from it in order. */
  private cur: Step | null = null;
  private srcAt = 0;
  private evAt = 0;
  private nextId = 1;

  constructor(private readonly model: Model, private readonly rec: Recording, private readonly stopAtFirst: boolean) {
    for (const name of model.recordSources ?? []) this.wrap(name, (orig, args) => this.source(name, orig, args));
    // The model's own late calls into its entries (timers) are in the recording already.
    for (const name of model.recordEntries ?? []) this.wrap(name, (orig, args) => (this.driving ? orig(...args) : undefined));
  }

  run(finalState: () => DeviceState): ReplayResult {
    let n = 0;
    for (const step of this.rec.steps) {
      if (this.stopAtFirst && this.mismatches.length > 0) break;
      this.step(step);
      this.at++;
      n++;
    }
    const final = finalState();
    if (this.rec.final && !this.rec.truncated && (!this.stopAtFirst || this.mismatches.length === 0)) {
      const diff = firstDifference(comparable(this.rec.final), comparable(final), 'final');
      if (diff) this.miss(`final state: ${diff.path}`, diff.a, diff.b, -1);
    }
    return { steps: n, mismatches: this.mismatches, final, ok: this.mismatches.length === 0 };
  }

  private wrap(name: string, body: (orig: Fn, args: unknown[]) => unknown): void {
    const m = this.model;
    const prev = m[name];
    if (typeof prev !== 'function') return;
    const orig = (prev as Fn).bind(m);
    m[name] = (...args: unknown[]) => body(orig, args);
  }

  private miss(what: string, recorded: unknown, replayed: unknown, step = this.at): void {
    this.mismatches.push({ step, what, recorded, replayed });
  }

  private step(s: Step): void {
    const m = this.model;
    this.cur = s;
    this.srcAt = 0;
    this.evAt = 0;
    for (const [bus, runs] of (s['in'] as Array<[string, Run[]]> | undefined) ?? []) this.mirror(bus).apply(runs);
    let ret: unknown, err: string | undefined;
    this.driving = true;
    try {
      ret = this.call(s, m);
    } catch (e) {
      err = e instanceof VbusError ? e.code : `EIO (${(e as Error)?.message ?? String(e)})`;
    } finally {
      this.driving = false;
    }
    if (s.k !== 'settle') {
      const wantErr = s['err'] as string | undefined;
      if (wantErr !== err) this.miss(`${s.k} error`, wantErr ?? null, err ?? null);
      else if (!err && 'ret' in s && s['ret'] !== 'promise' && s['ret'] !== ret) this.miss(`${s.k} ret`, s['ret'], ret ?? null);
      if (s['ret'] === 'promise' && !(ret instanceof Promise)) this.miss(`${s.k} ret`, 'promise', ret ?? null);
    }
    const srcs = (s['src'] as StateValue[] | undefined) ?? [];
    if (this.srcAt !== srcs.length) this.miss(`${s.k} sources asked`, srcs.length, this.srcAt);
    const evs = (s['ev'] as StateValue[] | undefined) ?? [];
    if (this.evAt !== evs.length) this.miss(`${s.k} events posted`, evs.length, this.evAt);
    const outs = new Map(((s['out'] as Array<[string, [number, number], Array<[number, number]>]> | undefined) ?? []).map((o) => [o[0], o]));
    for (const [bus, mirror] of this.mirrors) {
      const { runs, raised } = mirror.pushToBus();
      const want = outs.get(bus);
      const got = runsDigest(runs);
      const wantDigest = want ? want[1] : [0, 0];
      if (got[0] !== wantDigest[0] || got[1] !== wantDigest[1]) this.miss(`${s.k} bytes written on ${bus} (crc, length)`, wantDigest, got);
      const wantRaised = JSON.stringify(want ? want[2] : []);
      if (JSON.stringify(raised) !== wantRaised) this.miss(`${s.k} signals raised on ${bus}`, JSON.parse(wantRaised), raised);
    }
    this.cur = null;
  }

  private call(s: Step, m: Model): unknown {
    const fn = (name: string): Fn | undefined => { const f = m[name]; return typeof f === 'function' ? (f as Fn).bind(m) : undefined; };
    switch (s.k) {
      case 'link': {
        const mirror = this.mirror(s['bus'] as string, s['memoryBytes'] as number);
        return fn('linked')?.({ name: s['bus'], memory: mirror.priv }, s['id']);
      }
      case 'unlink': return fn('unlinked')?.({ name: s['bus'], memory: this.mirror(s['bus'] as string).priv }, s['id']);
      case 'open': {
        const mirror = this.mirror(s['bus'] as string);
        const c = this.conn(s, mirror);
        return fn('open')?.(c);
      }
      case 'shm': {
        const c = this.conns[s['c'] as number]!;
        const region = s['region'] as unknown as ShmRegion;
        const mirror = this.mirror(c.busName);
        mirror.watch(region);
        mirror.apply(s['init'] as Run[]);
        c.shms.push({ ...region });
        try { return fn('shm')?.(c, c.shms[c.shms.length - 1]); } catch (e) { c.shms.pop(); mirror.unwatch(region.offset); throw e; }
      }
      case 'call': {
        const c = this.conns[s['c'] as number]!;
        const payload = s['payload'] as Uint8Array;
        const slot = new Uint8Array(s['outBytes'] as number);
        slot.set(payload);
        const r = fn('call')?.(c, s['func'], slot.subarray(0, payload.length), slot);
        if (typeof r === 'number' && r > 0) {
          const want = s['reply'] as Uint8Array | undefined;
          const got = slot.slice(0, r);
          if (!want || want.length !== got.length || want.some((x, i) => x !== got[i])) this.miss('call reply', want ?? null, got);
        }
        return r;
      }
      case 'signal': {
        const c = this.conns[s['c'] as number]!;
        return fn('signal')?.(c, c.shms[s['region'] as number]);
      }
      case 'close': {
        const c = this.conns[s['c'] as number]!;
        c.open = false;
        return fn('close')?.(c);
      }
      case 'poll': return fn('poll')?.(this.conns[s['c'] as number]!);
      case 'attr': return fn('attrChanged')?.(s['name'], s['value']);
      case 'entry': return fn(s['name'] as string)?.(...(s['args'] as StateValue[]).map(fromValue));
      case 'settle': return undefined; // a promise's outcome: its effects were recorded in the steps after it
      default: throw vbusError('EINVAL', `recording step ${this.at} has unknown kind ${JSON.stringify(s.k)}`, { step: this.at });
    }
  }

  private mirror(bus: string, bytes?: number): DeviceMirror {
    let m = this.mirrors.get(bus);
    if (!m) {
      if (bytes === undefined) throw vbusError('EINVAL', `recording step ${this.at} uses bus ${bus} before linking to it`, { step: this.at, bus });
      m = new DeviceMirror(null, bytes);
      this.mirrors.set(bus, m);
    }
    return m;
  }

  private conn(s: Step, mirror: DeviceMirror): FakeConn {
    const self = this;
    const c: FakeConn = {
      id: this.nextId++, memory: mirror.priv, busName: s['bus'] as string, memberId: s['member'] as number,
      deviceId: s['device'] as number, version: s['version'] as number, shms: [], open: true,
      postEvent(code: number, arg = 0): boolean {
        const evs = (self.cur?.['ev'] as Array<[number, number, boolean]> | undefined) ?? [];
        const want = evs[self.evAt++];
        if (!want || want[0] !== code >>> 0 || want[1] !== arg >>> 0) { self.miss('device event', want ?? null, [code >>> 0, arg >>> 0]); return true; }
        return want[2];
      },
    };
    this.conns[s['c'] as number] = c;
    return c;
  }

  /** A source asked during a step: the recorded answer, in order (and the entries the world made meanwhile). */
  private source(name: string, orig: Fn, args: unknown[]): unknown {
    if (!this.driving || !this.cur) return orig(...args); // outside a step: the replay's own reads (a final save)
    const srcs = (this.cur['src'] as Array<Record<string, StateValue>> | undefined) ?? [];
    const rec = srcs[this.srcAt++];
    if (!rec || rec['name'] !== name || rec['args'] !== argsDigest(args)) {
      this.miss(`source ${name}`, rec ? `${String(rec['name'])} (args crc ${String(rec['args'])})` : 'none', `${name} (args crc ${argsDigest(args)})`);
      return orig(...args);
    }
    const fills = rec['fills'] as Array<Uint8Array | null> | undefined;
    if (fills) fills.forEach((f, i) => { if (f && args[i] instanceof Uint8Array) (args[i] as Uint8Array).set(f.subarray(0, (args[i] as Uint8Array).length)); });
    for (const e of (rec['nested'] as Array<Record<string, StateValue>> | undefined) ?? []) {
      (this.model[e['name'] as string] as Fn).apply(this.model, (e['args'] as StateValue[]).map(fromValue));
    }
    return fromValue(rec['ret']!);
  }
}

/** A state with the entries' ages of a switch table left out: they say when the state was saved. */
function comparable(s: DeviceState): unknown {
  const data = s.data as Record<string, StateValue> | null;
  if (!data || typeof data !== 'object' || !Array.isArray(data['fdb'])) return s;
  return { ...s, data: { ...data, fdb: (data['fdb'] as Array<Record<string, StateValue>>).map((e) => ({ ...e, age: 0 })) } };
}

/** Where two values first differ (byte arrays by content), or null. */
function firstDifference(a: unknown, b: unknown, path: string): { path: string; a: unknown; b: unknown } | null {
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array)) return { path, a, b };
    if (a.length !== b.length) return { path: `${path}.length`, a: a.length, b: b.length };
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return { path: `${path}[${i}]`, a: a[i], b: b[i] };
    return null;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b)) return { path, a, b };
    if (a.length !== b.length) return { path: `${path}.length`, a: a.length, b: b.length };
    for (let i = 0; i < a.length; i++) { const d = firstDifference(a[i], b[i], `${path}[${i}]`); if (d) return d; }
    return null;
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) { const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`); if (d) return d; }
    return null;
  }
  return a === b ? null : { path, a, b };
}

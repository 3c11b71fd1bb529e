/**
 * The stats region (layout.ts): created and assigned by the host, attached by any
 * thread that reads it. `create` sizes and formats it; `attach` checks magic, version
 * and size; the host names slots with `claimDevice`/`claimRing` and frees them with
 * `release*`; writers get a {@link DeviceStats} or {@link RingStats} view bound to their
 * slot; `read()` decodes everything (any thread, no locks: GEN words detect a slot
 * being reassigned under the reader).
 */
import { vbusError } from '../errors.js';
import * as L from './layout.js';
import { sharedOrPrivateBuffer } from '../platform/shared-memory.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

export interface DeviceReading {
  slot: number;
  name: string;
  calls: number; callBytesIn: number; callBytesOut: number; callErrors: number;
  polls: number; records: number; drops: number; faults: number;
  latencySamples: number; latencySumUs: number;
  /** Bucket k: sampled calls that took less than 2^k us (the last bucket: the rest). */
  latencyHistogram: number[];
}

export interface RingReading {
  slot: number;
  device: string;
  bus: string;
  member: number;
  queue: number;
  direction: 'to-device' | 'to-guest';
  capacity: number;
  bytes: number; raised: number; suppressed: number; highWater: number; used: number; faults: number; wakeups: number;
}

export interface StatsReading { devices: DeviceReading[]; rings: RingReading[] }

/** A device slot's counters, for its single writer. Plain stores only. */
export class DeviceStats {
  readonly f: Float64Array;
  constructor(sab: SharedArrayBuffer, readonly slot: number) {
    this.f = new Float64Array(sab, devOffset(slot) + L.COUNTERS_OFF, L.DEV_COUNTERS + L.HIST_BUCKETS);
  }
  /** Records one sampled call latency (us) in the histogram. */
  latency(us: number): void {
    const f = this.f;
    f[L.DEV_LAT_SAMPLES]!++;
    f[L.DEV_LAT_SUM_US]! += us;
    let k = 0;
    for (let b = 1; b <= us && k < L.HIST_BUCKETS - 1; b *= 2) k++;
    f[L.DEV_COUNTERS + k]!++;
  }
}

/** A ring slot's counters, for its single writer. */
export class RingStats {
  readonly f: Float64Array;
  constructor(sab: SharedArrayBuffer, readonly slot: number, devSlots: number) {
    this.f = new Float64Array(sab, ringOffset(slot, devSlots) + L.COUNTERS_OFF, L.RING_COUNTERS);
  }
}

function devOffset(slot: number): number { return L.HEADER_BYTES + slot * L.DEV_SLOT_BYTES; }
function ringOffset(slot: number, devSlots: number): number { return L.HEADER_BYTES + devSlots * L.DEV_SLOT_BYTES + slot * L.RING_SLOT_BYTES; }

export class StatsRegion {
  readonly u32: Uint32Array;
  readonly devSlots: number;
  readonly ringSlots: number;
  private readonly freeDev: number[] = [];
  private readonly freeRing: number[] = [];

  private constructor(readonly sab: SharedArrayBuffer) {
    this.u32 = new Uint32Array(sab);
    this.devSlots = this.u32[L.HDR_OFF_DEV_SLOTS >> 2]!;
    this.ringSlots = this.u32[L.HDR_OFF_RING_SLOTS >> 2]!;
  }

  /** A formatted region with room for `devices` devices and `rings` rings (host only). */
  static create(opts: { devices?: number; rings?: number } = {}): StatsRegion {
    const devices = opts.devices ?? 64;
    const rings = opts.rings ?? 512;
    if (!Number.isInteger(devices) || devices < 1 || devices > 4096) throw vbusError('EINVAL', `stats region device slots ${devices} must be 1..4096`, { devices });
    if (!Number.isInteger(rings) || rings < 1 || rings > 65536) throw vbusError('EINVAL', `stats region ring slots ${rings} must be 1..65536`, { rings });
    const sab = sharedOrPrivateBuffer(L.statsRegionBytes(devices, rings)); // private where shared memory is not allowed (a host-only view then)
    const u32 = new Uint32Array(sab);
    u32[L.HDR_OFF_DEV_SLOTS >> 2] = devices;
    u32[L.HDR_OFF_RING_SLOTS >> 2] = rings;
    u32[L.HDR_OFF_HIST_BUCKETS >> 2] = L.HIST_BUCKETS;
    u32[L.HDR_OFF_VERSION >> 2] = L.STATS_VERSION;
    Atomics.store(u32, L.HDR_OFF_MAGIC >> 2, L.STATS_MAGIC); // magic last: an attacher sees a formatted header
    const r = new StatsRegion(sab);
    for (let i = devices - 1; i >= 0; i--) r.freeDev.push(i);
    for (let i = rings - 1; i >= 0; i--) r.freeRing.push(i);
    return r;
  }

  /** Attaches to a region another thread created (readers and slot writers). */
  static attach(sab: SharedArrayBuffer): StatsRegion {
    if (!(sab instanceof SharedArrayBuffer) || sab.byteLength < L.HEADER_BYTES) throw vbusError('EINVAL', 'not a stats region: too small or not shared', {});
    const u32 = new Uint32Array(sab);
    const magic = Atomics.load(u32, L.HDR_OFF_MAGIC >> 2);
    if (magic !== L.STATS_MAGIC) throw vbusError('EINVAL', `not a stats region: magic 0x${magic.toString(16)}, expected 0x${L.STATS_MAGIC.toString(16)}`, { magic });
    const v = u32[L.HDR_OFF_VERSION >> 2]!;
    if (v !== L.STATS_VERSION) throw vbusError('EPROTO', `stats region version ${v}; this code reads version ${L.STATS_VERSION}`, { version: v });
    const need = L.statsRegionBytes(u32[L.HDR_OFF_DEV_SLOTS >> 2]!, u32[L.HDR_OFF_RING_SLOTS >> 2]!);
    if (sab.byteLength < need) throw vbusError('EINVAL', `stats region is ${sab.byteLength} bytes, its header needs ${need}`, {});
    return new StatsRegion(sab);
  }

  /** Assigns a device slot (counters zeroed). ENOSPC when all are taken. Host only. */
  claimDevice(name: string): DeviceStats {
    const slot = this.freeDev.pop();
    if (slot === undefined) throw vbusError('ENOSPC', `stats region has no free device slot (${this.devSlots})`, { name });
    const off = devOffset(slot);
    this.identify(off, () => {
      new Float64Array(this.sab, off + L.COUNTERS_OFF, L.DEV_COUNTERS + L.HIST_BUCKETS).fill(0);
      this.putName(off + L.DEV_OFF_NAME_LEN, off + L.DEV_OFF_NAME, name);
    });
    return new DeviceStats(this.sab, slot);
  }

  releaseDevice(d: DeviceStats): void {
    const off = devOffset(d.slot);
    this.identify(off, () => { this.u32[(off + L.DEV_OFF_NAME_LEN) >> 2] = 0; });
    this.freeDev.push(d.slot);
  }

  /** Assigns a ring slot to a device's ring. ENOSPC when all are taken. Host only. */
  claimRing(dev: DeviceStats, ring: { bus: string; member: number; queue: number; direction: number; capacity: number }): RingStats {
    const slot = this.freeRing.pop();
    if (slot === undefined) throw vbusError('ENOSPC', `stats region has no free ring slot (${this.ringSlots})`, {});
    const off = ringOffset(slot, this.devSlots);
    this.identify(off, () => {
      new Float64Array(this.sab, off + L.COUNTERS_OFF, L.RING_COUNTERS).fill(0);
      const u = this.u32;
      u[(off + L.RING_OFF_DEV) >> 2] = dev.slot + 1;
      u[(off + L.RING_OFF_MEMBER) >> 2] = ring.member;
      u[(off + L.RING_OFF_QUEUE) >> 2] = ring.queue;
      u[(off + L.RING_OFF_DIRECTION) >> 2] = ring.direction;
      u[(off + L.RING_OFF_CAPACITY) >> 2] = ring.capacity;
      this.putName(off + L.RING_OFF_BUS_LEN, off + L.RING_OFF_BUS, ring.bus);
    });
    return new RingStats(this.sab, slot, this.devSlots);
  }

  releaseRing(r: RingStats): void {
    const off = ringOffset(r.slot, this.devSlots);
    this.identify(off, () => { this.u32[(off + L.RING_OFF_DEV) >> 2] = 0; });
    this.freeRing.push(r.slot);
  }

  /** Decodes every assigned slot. Safe from any thread. */
  read(): StatsReading {
    const devices: DeviceReading[] = [];
    const names = new Map<number, string>();
    for (let s = 0; s < this.devSlots; s++) {
      const off = devOffset(s);
      const d = this.stable(off, () => {
        const name = this.getName(off + L.DEV_OFF_NAME_LEN, off + L.DEV_OFF_NAME);
        if (!name) return null;
        const f = new Float64Array(this.sab, off + L.COUNTERS_OFF, L.DEV_COUNTERS + L.HIST_BUCKETS);
        const r = { slot: s, name } as DeviceReading;
        L.DEV_COUNTER_NAMES.forEach((k, i) => { (r as unknown as Record<string, number>)[k] = f[i]!; });
        r.latencyHistogram = Array.from(f.subarray(L.DEV_COUNTERS));
        return r;
      });
      if (d) { devices.push(d); names.set(s, d.name); }
    }
    const rings: RingReading[] = [];
    for (let s = 0; s < this.ringSlots; s++) {
      const off = ringOffset(s, this.devSlots);
      const r = this.stable(off, () => {
        const u = this.u32;
        const dev = u[(off + L.RING_OFF_DEV) >> 2]!;
        if (dev === 0 || !names.has(dev - 1)) return null;
        const f = new Float64Array(this.sab, off + L.COUNTERS_OFF, L.RING_COUNTERS);
        const x = {
          slot: s, device: names.get(dev - 1)!, bus: this.getName(off + L.RING_OFF_BUS_LEN, off + L.RING_OFF_BUS),
          member: u[(off + L.RING_OFF_MEMBER) >> 2]!, queue: u[(off + L.RING_OFF_QUEUE) >> 2]!,
          direction: u[(off + L.RING_OFF_DIRECTION) >> 2] === L.DIR_TO_GUEST ? 'to-guest' : 'to-device',
          capacity: u[(off + L.RING_OFF_CAPACITY) >> 2]!,
        } as RingReading;
        L.RING_COUNTER_NAMES.forEach((k, i) => { (x as unknown as Record<string, number>)[k] = f[i]!; });
        return x;
      });
      if (r) rings.push(r);
    }
    return { devices, rings };
  }

  /** Runs `fn` with the slot's GEN odd (readers retry), then even again. */
  private identify(off: number, fn: () => void): void {
    const i = (off + L.SLOT_OFF_GEN) >> 2;
    Atomics.add(this.u32, i, 1); // odd: identity changing (seq-cst, before the field stores)
    fn();
    Atomics.add(this.u32, i, 1); // even: stable (after the field stores)
  }

  /** Reads a slot until its GEN is even and unchanged across the read (gives up after 8 tries: slot skipped). */
  private stable<T>(off: number, fn: () => T | null): T | null {
    const i = (off + L.SLOT_OFF_GEN) >> 2;
    for (let tries = 0; tries < 8; tries++) {
      const g = Atomics.load(this.u32, i); // before the field loads
      if (g & 1) continue;
      const v = fn();
      if (Atomics.load(this.u32, i) === g) return v; // after the field loads
    }
    return null;
  }

  private putName(lenOff: number, at: number, name: string): void {
    const bytes = enc.encode(name).subarray(0, L.NAME_BYTES);
    new Uint8Array(this.sab, at, L.NAME_BYTES).fill(0).set(bytes);
    this.u32[lenOff >> 2] = bytes.length;
  }

  private getName(lenOff: number, at: number): string {
    const n = Math.min(this.u32[lenOff >> 2]!, L.NAME_BYTES);
    if (n === 0) return '';
    return dec.decode(new Uint8Array(this.sab, at, n).slice());
  }
}

/**
 * The virtual-entropy device model. Each bus the device is linked to gets its own
 * state: a token bucket for the quota, counters, and a private scratch buffer. A
 * request is served by drawing fresh bytes from the platform CSPRNG into that bus's
 * scratch, copying them into the requester's call slot (its own bus memory), and
 * wiping the scratch. Nothing is pre-generated or pooled, so bytes drawn for one bus
 * exist only in that bus's memory and, for a moment, in its own scratch.
 *
 * (The scratch exists because browsers refuse crypto.getRandomValues on views of
 * shared memory; Node accepts them, but one code path serves both.)
 */
import { hrtime } from '../../platform/index.js';
import type { DeviceConnection } from '../../connector/types.js';
import type { Bus } from '../../host/bus.js';
import type { BusMemory } from '../../core/bus-memory.js';
import type { DeviceModel } from '../../host/device-model.js';
import { vbusError } from '../../errors.js';
import {
  ENTROPY_VERSION, FUNC_GET_ENTROPY, FUNC_INFO, INFO_BYTES, INFO_OFF_PER_CALL, INFO_OFF_QUOTA, INFO_OFF_VERSION, REQ_BYTES, REQ_OFF_N,
} from './abi.js';
import { TokenBucket } from './token-bucket.js';

const EINVAL = 22;
const EAGAIN = 11;
const ENOSYS = 38;
/** crypto.getRandomValues serves at most this many bytes per call. */
const CSPRNG_CHUNK = 65536;

/** Counters of one bus (or the device's totals). */
export interface EntropyCounters {
  /** Random bytes handed out. */
  bytesServed: number;
  /** GET_ENTROPY calls answered (including those the quota refused). */
  requests: number;
}

/** One bus's private state. */
class BusEntropy {
  readonly counters: EntropyCounters = { bytesServed: 0, requests: 0 };
  readonly bucket: TokenBucket;
  private scratch = new Uint8Array(0);
  constructor(readonly busName: string, quota: number, now: number) {
    this.bucket = new TokenBucket(quota, now);
  }

  /** Fresh bytes from `random` (the CSPRNG) into `out[0..k)`; the scratch is wiped afterwards. */
  fill(out: Uint8Array, k: number, random: (dst: Uint8Array) => void): void {
    if (this.scratch.length < k) this.scratch = new Uint8Array(k);
    const s = this.scratch;
    for (let at = 0; at < k; at += CSPRNG_CHUNK) random(s.subarray(at, Math.min(k, at + CSPRNG_CHUNK)));
    out.set(s.subarray(0, k));
    s.fill(0, 0, k); // leave nothing behind in host memory
  }
}

export class EntropyModel implements DeviceModel {
  private quota: number;
  private readonly buses = new Map<BusMemory, BusEntropy>();
  /** Totals over every bus, including buses since unlinked. */
  readonly totals: EntropyCounters = { bytesServed: 0, requests: 0 };
  /** What the model reads from the world (src/record/contract.ts): the clock and the CSPRNG. */
  readonly recordSources = ['clock', 'random'] as const;

  /** The clock (ms) the quota buckets run on. */
  clock(): number { return hrtime(); }
  /** Fills `dst` from the platform CSPRNG (`dst` is host memory: browsers refuse shared views). */
  random(dst: Uint8Array): void { crypto.getRandomValues(dst); }

  constructor(quotaBytesPerSecond = 0) {
    this.quota = parseEntropyQuota(String(quotaBytesPerSecond));
  }

  /** The quota now in force per bus (bytes per second, 0 = unlimited). */
  get quotaBytesPerSecond(): number { return this.quota; }

  /** The counters of the bus called `busName`, or undefined if the device is not on it. */
  busStats(busName: string): EntropyCounters | undefined {
    for (const b of this.buses.values()) if (b.busName === busName) return { ...b.counters };
    return undefined;
  }

  open(conn: DeviceConnection): void {
    if (conn.version !== ENTROPY_VERSION) {
      throw vbusError('ENOTSUP', `entropy interface version ${conn.version} is not supported (only ${ENTROPY_VERSION})`, { version: conn.version });
    }
  }

  linked(bus: Bus): void {
    if (!this.buses.has(bus.memory)) this.buses.set(bus.memory, this.busEntropy(bus.name));
  }

  /** Per-bus counters of a loaded state, taken up by the bus of that name when linked (src/devices/vrng/state.ts). */
  restoredBuses = new Map<string, EntropyCounters>();

  /** Every bus's counters, by bus name (a saved state), including loaded ones not linked yet. */
  perBus(): Array<{ bus: string } & EntropyCounters> {
    const out = [...this.buses.values()].map((b) => ({ bus: b.busName, ...b.counters }));
    for (const [bus, c] of this.restoredBuses) out.push({ bus, ...c });
    return out;
  }

  private busEntropy(busName: string): BusEntropy {
    const b = new BusEntropy(busName, this.quota, this.clock());
    const saved = this.restoredBuses.get(busName);
    if (saved) { Object.assign(b.counters, saved); this.restoredBuses.delete(busName); }
    return b;
  }

  unlinked(bus: Bus): void { this.buses.delete(bus.memory); }

  call(conn: DeviceConnection, func: number, payload: Uint8Array, out: Uint8Array): number {
    let b = this.buses.get(conn.memory);
    if (!b) { b = this.busEntropy(conn.busName); this.buses.set(conn.memory, b); }
    if (func === FUNC_INFO) {
      if (out.length < INFO_BYTES) return -EINVAL;
      const dv = new DataView(out.buffer, out.byteOffset, INFO_BYTES);
      dv.setUint32(INFO_OFF_VERSION, ENTROPY_VERSION, true);
      dv.setUint32(INFO_OFF_QUOTA, this.quota, true);
      dv.setUint32(INFO_OFF_PER_CALL, out.length, true);
      return INFO_BYTES;
    }
    if (func !== FUNC_GET_ENTROPY) return -ENOSYS;
    if (payload.length < REQ_BYTES) return -EINVAL;
    // Read the request once: the guest can still write its slot, and out overlaps it.
    const n = new DataView(payload.buffer, payload.byteOffset, REQ_BYTES).getUint32(REQ_OFF_N, true);
    b.counters.requests++;
    this.totals.requests++;
    const want = Math.min(n, out.length);
    if (want === 0) return 0;
    const k = b.bucket.take(want, this.clock());
    if (k === 0) return -EAGAIN;
    b.fill(out, k, (dst) => this.random(dst));
    b.counters.bytesServed += k;
    this.totals.bytesServed += k;
    return k;
  }

  attrChanged(name: string, value: string): void {
    if (name !== 'quota_bytes_per_s') return;
    this.quota = parseEntropyQuota(value);
    const now = this.clock();
    for (const b of this.buses.values()) b.bucket.setRate(this.quota, now);
  }

  release(): void { this.buses.clear(); }
}

/** Parses a quota attribute value: a whole number of bytes per second, 0 for unlimited. Throws EINVAL. */
export function parseEntropyQuota(text: string): number {
  const t = text.trim();
  const v = Number(t);
  if (!/^\d+$/.test(t) || !Number.isSafeInteger(v) || v > 0xffffffff) {
    throw vbusError('EINVAL', `quota_bytes_per_s "${text}" must be a whole number of bytes per second between 0 (unlimited) and ${0xffffffff}`, { value: text });
  }
  return v;
}

/** The factory the class uses. */
export function createEntropyModel(init?: { quotaBytesPerSecond?: number }): EntropyModel {
  return new EntropyModel(init?.quotaBytesPerSecond ?? 0);
}

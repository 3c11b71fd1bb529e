/**
 * A guest's open connection to one device (the result of DEVOPEN).
 */
import {
  OP_DEVCLOSE, OP_DEVCALL, OP_DEVSHM, OP_SHMSIGNAL, SHM_RING_TO_DEVICE, SHM_RING_TO_GUEST, SHM_BUFFER,
  CONN_FUNC_STATUS, CONN_FUNC_RESET, CONN_STATUS_NEEDS_RESET,
} from '../../assembly/layout/callslot.js';
import { CONN_FAULT_NO_QUEUE } from '../../assembly/layout/event.js';
import { connFaultName, connFaultText } from '../connector/conn-fault.js';
import { ERRNO, VbusError, errnoName, STRERROR } from '../errors.js';
import type { ShmRegion } from '../connector/types.js';
import type { CallClient, CallOptions } from './call-client.js';
import { SharedBuffer } from './shm.js';
import { ConsumerEnd, ProducerEnd } from '../core/queue.js';
import type { SpinPolicy } from '../core/adaptive-spin.js';

/** Turns a negative errno from the wire into a thrown VbusError naming the operation. */
export function failIfNegative(n: number, what: string): number {
  if (n >= 0) return n;
  const code = errnoName(-n);
  throw new VbusError(code, `${what}: ${STRERROR[code]}`, { errno: -n });
}

/**
 * A driver opener's first check: device `id` must have the interface the driver drives.
 * ENODEV naming both types (a device of another kind is not this driver's device);
 * an id the guest has not seen yet is left for DEVOPEN to answer.
 */
export function checkInterface(guest: { devices(): ReadonlyArray<{ id: number; type: string }> }, id: number, want: string, opener: string): void {
  const known = guest.devices().find((d) => d.id === id);
  if (known && known.type !== want) {
    throw new VbusError('ENODEV', `device ${id} is a '${known.type}' device; ${opener} drives '${want}' devices`, { id, type: known.type, expected: want });
  }
}

/** Interface versions the drivers loaded in this guest speak, by interface type. */
const driverVersions = new Map<string, readonly number[]>();

/** Called by a driver module: the versions of interface `type` it speaks (named in ENOTSUP messages). */
export function declareInterfaceVersions(type: string, versions: readonly number[]): void {
  driverVersions.set(type, Object.freeze([...versions]));
}

/** DEVOPEN failed with `-n`: the error names the device, its type and, for ENOTSUP, the versions known here. */
export function openFailure(n: number, id: number, type: string | undefined, version: number): VbusError {
  const code = errnoName(-n);
  const what = `open device ${id}${type ? ` ('${type}')` : ''} with interface version ${version}`;
  if (code !== 'ENOTSUP') return new VbusError(code, `${what}: ${STRERROR[code]}`, { errno: -n, id, version });
  const known = type ? driverVersions.get(type) : undefined;
  const hint = known ? `the '${type}' driver speaks version ${known.join(', ')}` : 'the device\'s class says which versions it speaks';
  return new VbusError('ENOTSUP', `${what}: the device does not speak version ${version}; ${hint}`, { errno: -n, id, version, ...(known ? { supported: known } : {}) });
}

/** Thrown by every operation on a connection after close(). */
function closedError(deviceId: number, what: string): VbusError {
  return new VbusError('EBADF', `${what} on device ${deviceId}: this connection was closed`, { deviceId });
}

/**
 * What the host says of a connection's health (virtio's NEEDS_RESET), from
 * {@link Connection.status} or a DEVFAULT/DEVRESET event. `reason` and `text` come from
 * the connector's fixed table of reasons (src/connector/conn-fault.ts).
 */
export interface ConnectionStatus {
  /** The host found the connection faulted: call the driver's reset() (or close and reopen). */
  needsReset: boolean;
  /** Short name of the reason ('ring-header', 'ring-index', ..., 'none'). */
  reason: string;
  /** The reason as a sentence. */
  text: string;
  /** Queue number of the ring found corrupt, or null. */
  queue: number | null;
  /** Resets of this connection so far. */
  resets: number;
}

/** A DEVFAULT ('fault') or DEVRESET ('reset') event of one connection. */
export interface ConnectionFaultEvent extends ConnectionStatus {
  kind: 'fault' | 'reset';
  deviceId: number;
  handle: number;
}

/** Builds a status from the wire's numbers: every text from the table, none from the numbers themselves. */
export function connectionStatus(needsReset: boolean, reason: number, queue: number, resets: number): ConnectionStatus {
  const r = needsReset ? reason : 0;
  return { needsReset, reason: connFaultName(r), text: connFaultText(r), queue: needsReset && queue !== (CONN_FAULT_NO_QUEUE >>> 0) ? queue : null, resets };
}

export class Connection {
  private closed = false;
  private readonly regions: ShmRegion[] = [];
  private readonly faultListeners = new Set<(e: ConnectionFaultEvent) => void>();
  /** The last status the host told (event or status call). */
  private last: ConnectionStatus = connectionStatus(false, 0, 0, 0);
  constructor(
    private readonly client: CallClient,
    /** Device id on this bus. */
    readonly deviceId: number,
    /** Interface type the device registered (e.g. 'virtual-ethernet'). */
    readonly type: string,
    /** Connection handle (host-assigned). */
    readonly handle: number,
    /** The direct slot of a device in a backend worker (DEVCALL goes there), or null. */
    private readonly direct: CallClient | null = null,
    /** Interface version it was opened with. */
    readonly version = 1,
    /** A connection taken back by a resumed guest (src/guest/resume.ts): its regions, and its driver's saved state. */
    saved?: { regions: readonly ShmRegion[]; driver: unknown },
  ) {
    this.unclaimed = saved ? [...saved.regions] : [];
    this.resumed = saved?.driver ?? null;
  }

  /** Regions of a resumed connection its driver has not asked for again yet. */
  private readonly unclaimed: ShmRegion[];
  private saver: (() => unknown) | null = null;

  /**
   * What this connection's driver saved (onSave) when its bus was saved, on a resumed
   * guest; null otherwise. A driver that finds it needs not ask the device again.
   */
  readonly resumed: unknown;

  /** The driver's state for a save of the bus (structured-cloneable); handed back as {@link resumed}. */
  onSave(fn: () => unknown): void { this.saver = fn; }

  /** @internal For the connector's save. */
  saveDriver(): unknown { return this.saver?.() ?? null; }

  /** @internal The regions placed for this connection, for the connector's save. */
  placedRegions(): ShmRegion[] { return this.regions.map((r) => ({ ...r })); }

  /** True when calls go straight to a backend worker, bypassing the host event loop. */
  get isDirect(): boolean { return this.direct !== null; }

  private get caller(): CallClient { return this.direct ?? this.client; }

  get isOpen(): boolean { return !this.closed; }
  /** Largest call payload (request or reply). */
  get payloadMax(): number { return this.client.payloadMax; }

  /**
   * Synchronous DEVCALL: blocks this worker until the device answers. Returns a copy of
   * the reply. Throws VbusError: EINVAL for a payload above payloadMax, ENODEV once the
   * device was unplugged, ETIMEDOUT/ECANCELED, or what the device answered.
   */
  call(func: number, payload?: Uint8Array, opts?: CallOptions): Uint8Array {
    if (this.closed) throw closedError(this.deviceId, `call ${func}`);
    const out = new Uint8Array(this.caller.payloadMax);
    const n = failIfNegative(this.caller.callSync({ op: OP_DEVCALL, handle: this.handle, func, payload: payload ?? null }, out, opts), `call ${func} on device ${this.deviceId}`);
    return out.subarray(0, n);
  }

  /**
   * Allocation-free DEVCALL for hot loops: copies the reply into `out` and returns its
   * length, or a negative errno (never throws for a failed call).
   */
  callInto(func: number, payload: Uint8Array | null, out: Uint8Array | null, opts?: CallOptions): number {
    if (this.closed) return -ERRNO.EBADF;
    return this.caller.callSync({ op: OP_DEVCALL, handle: this.handle, func, payload }, out, opts);
  }

  /** Asynchronous DEVCALL (Atomics.waitAsync): the worker's event loop keeps running. */
  async callAsync(func: number, payload?: Uint8Array, opts?: CallOptions): Promise<Uint8Array> {
    if (this.closed) throw closedError(this.deviceId, `call ${func}`);
    const out = new Uint8Array(this.caller.payloadMax);
    const n = await this.caller.callAsync({ op: OP_DEVCALL, handle: this.handle, func, payload: payload ?? null }, out, opts);
    return out.subarray(0, failIfNegative(n, `call ${func} on device ${this.deviceId}`));
  }

  /** DEVSHM: a ring the guest produces into (guest -> device); the guest holds its producer end. `spin`: of the space waiter. */
  txQueue(queue: number, capacity: number, spin?: SpinPolicy): ProducerEnd<ShmRegion> {
    return new ProducerEnd(this.client.bus, this.shm(queue, capacity, SHM_RING_TO_DEVICE), spin);
  }
  /** DEVSHM: a ring the device produces into (device -> guest); the guest holds its consumer end. `spin`: of the data waiter. */
  rxQueue(queue: number, capacity: number, spin?: SpinPolicy): ConsumerEnd<ShmRegion> {
    return new ConsumerEnd(this.client.bus, this.shm(queue, capacity, SHM_RING_TO_GUEST), spin);
  }
  /** DEVSHM: a plain shared buffer of `bytes` bytes. */
  buffer(queue: number, bytes: number): SharedBuffer {
    return new SharedBuffer(this.client.bus, this.shm(queue, bytes, SHM_BUFFER));
  }

  /** DEVSHM, raw: returns the region the host placed. */
  shm(queue: number, bytes: number, kind: number): ShmRegion {
    if (this.closed) throw closedError(this.deviceId, `shm queue ${queue}`);
    const i = this.unclaimed.findIndex((r) => r.queue === queue && r.kind === kind && r.bytes === bytes);
    if (i >= 0) {
      // A resumed connection: the region is still placed, its ring holds what it held.
      const region = this.unclaimed.splice(i, 1)[0]!;
      this.regions.push(region);
      return region;
    }
    failIfNegative(this.client.callSync({ op: OP_DEVSHM, handle: this.handle, args: [queue, bytes, kind] }, null), `shm queue ${queue} (${bytes} bytes) on device ${this.deviceId}`);
    const rv = this.client.rvals;
    const region: ShmRegion = { id: rv[3]!, queue, kind, offset: rv[0]!, bytes, dataSignal: rv[1]!, spaceSignal: rv[2]! };
    this.regions.push(region);
    return region;
  }

  /** SHMSIGNAL through the call slot (slow path; rings normally use their own signals). */
  signal(region: ShmRegion): void {
    if (this.closed) throw closedError(this.deviceId, `signal shm ${region.id}`);
    failIfNegative(this.client.callSync({ op: OP_SHMSIGNAL, handle: this.handle, args: [region.id] }, null), `signal shm ${region.id}`);
  }

  /**
   * Asks the host whether this connection needs a reset (virtio's NEEDS_RESET); the host
   * checks its rings now. Goes through the member's own call slot, also for a device in
   * a backend worker (the host keeps the fault state).
   */
  status(opts?: CallOptions): ConnectionStatus {
    if (this.closed) throw closedError(this.deviceId, 'status');
    failIfNegative(this.client.callSync({ op: OP_DEVCALL, handle: this.handle, func: CONN_FUNC_STATUS, payload: null }, null, opts), `status of device ${this.deviceId}`);
    const rv = this.client.rvals;
    this.last = connectionStatus((rv[0]! & CONN_STATUS_NEEDS_RESET) !== 0, rv[1]!, rv[2]!, rv[3]!);
    return this.last;
  }

  /** True when the last word from the host (event or status) said this connection needs a reset. */
  get needsReset(): boolean { return this.last.needsReset; }

  /**
   * Resets the connection: the host re-formats its rings from its own record of them,
   * the device starts the connection afresh, and the fault is cleared. The caller must
   * attach new ends to the rings afterwards (the drivers' reset() does). Returns the
   * number of resets so far. Throws VbusError (ENODEV once unplugged, ETIMEDOUT ...).
   */
  reset(opts?: CallOptions): number {
    if (this.closed) throw closedError(this.deviceId, 'reset');
    failIfNegative(this.client.callSync({ op: OP_DEVCALL, handle: this.handle, func: CONN_FUNC_RESET, payload: null }, null, opts), `reset device ${this.deviceId}`);
    const resets = this.client.rvals[3]!;
    this.last = connectionStatus(false, 0, 0, resets);
    return resets;
  }

  /** Listens for this connection's DEVFAULT and DEVRESET events. Returns an unsubscribe function. */
  onFault(fn: (e: ConnectionFaultEvent) => void): () => void {
    this.faultListeners.add(fn);
    return () => { this.faultListeners.delete(fn); };
  }

  /** @internal The guest connector routes this connection's DEVFAULT/DEVRESET here. */
  deliverFault(e: ConnectionFaultEvent): void {
    if (e.kind === 'fault') this.last = { needsReset: true, reason: e.reason, text: e.text, queue: e.queue, resets: this.last.resets };
    else if (e.resets >= this.last.resets) this.last = connectionStatus(false, 0, 0, e.resets);
    for (const fn of this.faultListeners) fn(e);
  }

  /** DEVCLOSE. Idempotent; errors from a device that is already gone are ignored. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const n = this.client.callSync({ op: OP_DEVCLOSE, handle: this.handle }, null);
    if (n < 0 && n !== -ERRNO.ENOENT && n !== -ERRNO.ENOTCONN) failIfNegative(n, `close device ${this.deviceId}`);
  }
}

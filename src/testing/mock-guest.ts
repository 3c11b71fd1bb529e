/**
 * A guest without a worker, for testing a device model in one thread. It joins a bus
 * as a real member (src/testing/member-adapter.ts) and speaks the real wire protocol
 * through the real call slot and event ring, so the device model under test sees
 * exactly what a guest worker would make it see.
 *
 * Why every call is asynchronous: the host serves call slots from this same thread's
 * event loop (Atomics.waitAsync on the doorbell), so a guest call that blocked the
 * thread would wait for an answer that can only come after it returns. Each call here
 * parks with Atomics.waitAsync instead, and has a deadline (`timeoutMs`, default 5 s),
 * so a device model that never answers fails the test with ETIMEDOUT instead of hanging.
 */
import { OP_DEVOPEN, OP_DEVCLOSE, OP_DEVCALL, OP_DEVSHM, SHM_RING_TO_DEVICE, SHM_RING_TO_GUEST, SHM_BUFFER } from '../../assembly/layout/callslot.js';
import { ERRNO, vbusError } from '../errors.js';
import { GuestConnector, type DeviceEvent, type GuestDevice } from '../guest/connector.js';
import { CallClient, type CallOptions, type Request } from '../guest/call-client.js';
import { failIfNegative, openFailure } from '../guest/connection.js';
import { SharedBuffer } from '../guest/shm.js';
import { ConsumerEnd, ProducerEnd } from '../core/queue.js';
import type { ShmRegion } from '../connector/types.js';
import type { Bus } from '../host/bus.js';
import type { VbusHost } from '../host/host.js';
import { attachMember, type MemberAttachment } from './member-adapter.js';

/** Deadline of every mock-guest call that names none. */
export const MOCK_CALL_TIMEOUT_MS = 5000;

export class MockGuest {
  private readonly connector: GuestConnector;
  private readonly conns = new Set<MockConnection>();
  private left = false;

  private constructor(private readonly attachment: MemberAttachment) {
    this.connector = new GuestConnector(attachment.boot);
    this.connector.startEvents();
  }

  /** Joins `bus` of `host` as a new member (no worker). */
  static join(host: VbusHost, bus: Bus): MockGuest {
    return new MockGuest(attachMember(host, bus));
  }

  get memberId(): number { return this.attachment.boot.memberId; }
  get busName(): string { return this.attachment.boot.busName; }

  /** Devices on the bus as far as the events delivered so far tell. */
  devices(): GuestDevice[] { return this.connector.devices(); }

  /** Device events (DEVEVENT) posted to this guest's connections. Returns an unsubscribe function. */
  onDeviceEvent(fn: (e: DeviceEvent) => void): () => void { return this.connector.onDeviceEvent(fn); }

  /**
   * Resolves with the first device of interface `type` on the bus (`id` to ask for one
   * device), once its DEVADD arrived; ETIMEDOUT after `timeoutMs`.
   */
  async waitForDevice(type: string, opts: { id?: number; timeoutMs?: number } = {}): Promise<GuestDevice> {
    const deadline = performance.now() + (opts.timeoutMs ?? MOCK_CALL_TIMEOUT_MS);
    for (;;) {
      this.connector.pollEvents();
      const dev = this.devices().find((d) => d.type === type && (opts.id === undefined || d.id === opts.id));
      if (dev) return dev;
      if (performance.now() >= deadline) {
        throw vbusError('ETIMEDOUT', `no '${type}' device${opts.id !== undefined ? ` with id ${opts.id}` : ''} appeared on bus ${this.busName} (devices: ${this.devices().map((d) => `${d.id}:${d.type}`).join(', ') || 'none'})`, { type });
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  /**
   * DEVOPEN device `id`, asking for interface `version` (the device model's `open` sees
   * it as `conn.version` and may refuse it with ENOTSUP).
   */
  async open(id: number, version = 1, opts: CallOptions = {}): Promise<MockConnection> {
    const client = this.connector.client;
    const n = await client.callAsync({ op: OP_DEVOPEN, devId: id, args: [version] }, null, withDeadline(opts));
    if (n < 0) throw openFailure(n, id, this.devices().find((d) => d.id === id)?.type, version);
    const [handle, directSlot, directDoorbell] = [client.rvals[0]!, client.rvals[1]!, client.rvals[2]!];
    // A device in a backend worker serves this connection on its own slot.
    const direct = directSlot !== 0 ? new CallClient(client.bus, { slot: directSlot, slotPayload: this.attachment.boot.slotPayload, doorbell: directDoorbell }) : null;
    const type = this.devices().find((d) => d.id === id)?.type ?? 'unknown';
    const c = new MockConnection(client, direct, id, type, handle, () => this.conns.delete(c));
    this.conns.add(c);
    return c;
  }

  /** Leaves the bus: the host closes this member's connections and frees its regions. */
  leave(): void {
    if (this.left) return;
    this.left = true;
    this.connector.stopEvents();
    this.conns.clear();
    this.attachment.detach();
  }
}

/** An open connection of a mock guest; every call is asynchronous and has a deadline. */
export class MockConnection {
  private closed = false;

  /** @internal made by MockGuest.open */
  constructor(
    private readonly client: CallClient,
    private readonly direct: CallClient | null,
    readonly deviceId: number,
    readonly type: string,
    readonly handle: number,
    private readonly onClose: () => void,
  ) {}

  get isOpen(): boolean { return !this.closed; }
  get isDirect(): boolean { return this.direct !== null; }
  get payloadMax(): number { return this.client.payloadMax; }

  /** DEVCALL: resolves with a copy of the reply; rejects with a VbusError for an errno. */
  async call(func: number, payload?: Uint8Array, opts: CallOptions = {}): Promise<Uint8Array> {
    const out = new Uint8Array(this.payloadMax);
    const n = await this.callInto(func, payload ?? null, out, opts);
    return out.subarray(0, failIfNegative(n, `call ${func} on device ${this.deviceId}`));
  }

  /** DEVCALL that resolves with the reply length or a negative errno (never rejects for a failed call). */
  callInto(func: number, payload: Uint8Array | null, out: Uint8Array | null, opts: CallOptions = {}): Promise<number> {
    if (this.closed) return Promise.resolve(-ERRNO.EBADF);
    return (this.direct ?? this.client).callAsync({ op: OP_DEVCALL, handle: this.handle, func, payload }, out, withDeadline(opts));
  }

  /** DEVSHM: a guest -> device ring (its producer end). */
  async txQueue(queue: number, capacity: number): Promise<ProducerEnd<ShmRegion>> {
    return new ProducerEnd(this.client.bus, await this.shm(queue, capacity, SHM_RING_TO_DEVICE));
  }

  /** DEVSHM: a device -> guest ring (its consumer end). */
  async rxQueue(queue: number, capacity: number): Promise<ConsumerEnd<ShmRegion>> {
    return new ConsumerEnd(this.client.bus, await this.shm(queue, capacity, SHM_RING_TO_GUEST));
  }

  /** DEVSHM: a plain shared buffer. */
  async buffer(queue: number, bytes: number): Promise<SharedBuffer> {
    return new SharedBuffer(this.client.bus, await this.shm(queue, bytes, SHM_BUFFER));
  }

  /** DEVSHM, raw. */
  async shm(queue: number, bytes: number, kind: number, opts: CallOptions = {}): Promise<ShmRegion> {
    if (this.closed) throw vbusError('EBADF', `shm queue ${queue} on device ${this.deviceId}: this connection was closed`, { deviceId: this.deviceId });
    const n = await this.client.callAsync({ op: OP_DEVSHM, handle: this.handle, args: [queue, bytes, kind] }, null, withDeadline(opts));
    failIfNegative(n, `shm queue ${queue} (${bytes} bytes) on device ${this.deviceId}`);
    const rv = this.client.rvals;
    return { id: rv[3]!, queue, kind, offset: rv[0]!, bytes, dataSignal: rv[1]!, spaceSignal: rv[2]! };
  }

  /** DEVCLOSE. Idempotent; a device already gone is not an error. */
  async close(opts: CallOptions = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    const n = await this.client.callAsync({ op: OP_DEVCLOSE, handle: this.handle } satisfies Request, null, withDeadline(opts));
    if (n < 0 && n !== -ERRNO.ENOENT && n !== -ERRNO.ENOTCONN && n !== -ERRNO.ENODEV) failIfNegative(n, `close device ${this.deviceId}`);
  }
}

function withDeadline(opts: CallOptions): CallOptions {
  return opts.timeoutMs !== undefined ? opts : { ...opts, timeoutMs: MOCK_CALL_TIMEOUT_MS };
}

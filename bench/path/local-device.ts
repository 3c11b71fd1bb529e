/**
 * The `qemu-like` path's device side: the same device models the bus serves
 * (venet-loopback, a memory-backed vdisk, the echo model), driven from the main thread's
 * event loop the way a user-space emulator drives its device models. Each model gets a
 * private bus memory with its rings, as if one guest had opened it; a request that
 * arrived by postMessage is written into the model's ring, the model's `poll` (or
 * `call`) runs, and the reply is read out of the completion ring. Only the transport
 * differs from the vbus paths: every request and reply is a message between threads.
 */
import {
  BusMemory, RingConsumer, RingProducer, createRing, createSignal, createStatsBuffer, createVdiskModel,
  MemoryStore, VdiskCounters, VENET_QUEUE_EVENT, VENET_QUEUE_RX, VENET_QUEUE_TX, VENET_VERSION,
  VDISK_Q_COMPLETE, VDISK_Q_DATA, VDISK_Q_REQUEST, VDISK_VERSION, VDISK_OP_READ,
  REQ_BYTES, REQ_OFF_BUF, REQ_OFF_ID, REQ_OFF_LEN, REQ_OFF_OFF_HI, REQ_OFF_OFF_LO, REQ_OFF_OP,
  CPL_BYTES, CPL_OFF_ID, CPL_OFF_STATUS,
  type ConnectorModel, type DeviceConnection, type ShmRegion,
} from '../../src/internal.js';
import { SHM_BUFFER, SHM_RING_TO_DEVICE, SHM_RING_TO_GUEST } from '../../src/connector/device-queues.js';
import { createModel as createLoopback } from '../../src/devices/venet/loopback-model.js';
import { createModel as createEcho } from '../call/echo-model.js';

const RING_BYTES = 1 << 20;
const MEMORY_BYTES = 16 << 20;

/** One model opened on a private bus memory, as one connection. */
class LocalConnection {
  readonly bus = BusMemory.create({ bytes: MEMORY_BYTES });
  readonly shms: ShmRegion[] = [];
  readonly conn: DeviceConnection;
  constructor(readonly model: ConnectorModel, version: number) {
    const shms = this.shms;
    this.conn = { id: 1, memory: this.bus, busName: 'qemu-like', memberId: 0, deviceId: 0, version, shms, open: true, postEvent: () => true };
    model.open?.(this.conn);
  }
  /** Sets up a ring (or a buffer) of the model's queue `queue`. */
  region(queue: number, kind: number, bytes: number): ShmRegion {
    const offset = kind === SHM_BUFFER ? this.bus.allocRegion(bytes, 'buffer') : createRing(this.bus, bytes).offset;
    const r: ShmRegion = {
      id: this.shms.length, queue, kind, offset, bytes,
      dataSignal: kind === SHM_BUFFER ? 0 : createSignal(this.bus), spaceSignal: kind === SHM_BUFFER ? 0 : createSignal(this.bus),
    };
    this.shms.push(r);
    this.model.shm?.(this.conn, r);
    return r;
  }
  ring(r: ShmRegion) { return { offset: r.offset, capacity: r.bytes }; }
}

/** A device reached the qemu-like way: `handle` answers one request. Returns the reply length or a negative errno. */
export interface LocalDevice {
  handle(offset: number, payload: Uint8Array, out: Uint8Array): number;
  release(): void;
}

/** venet-loopback: the frame goes into the model's TX ring, comes back out of its RX ring. */
export function localLoopback(): LocalDevice {
  const c = new LocalConnection(createLoopback({ attrs: {}, stats: createStatsBuffer() }), VENET_VERSION);
  const tx = new RingProducer(c.bus, c.ring(c.region(VENET_QUEUE_TX, SHM_RING_TO_DEVICE, RING_BYTES)));
  const rx = new RingConsumer(c.bus, c.ring(c.region(VENET_QUEUE_RX, SHM_RING_TO_GUEST, RING_BYTES)));
  const ev = new RingConsumer(c.bus, c.ring(c.region(VENET_QUEUE_EVENT, SHM_RING_TO_GUEST, 4096)));
  const scratch = new Uint8Array(64);
  while (ev.pop(scratch) >= 0) { /* LINK_UP */ }
  return {
    handle(_offset, payload, out) {
      if (tx.push(payload) < 0) return -28; // ENOSPC
      c.model.poll!(c.conn);
      return rx.pop(out);
    },
    release() { c.model.close?.(c.conn); },
  };
}

/** A memory-backed vdisk: a read descriptor into the request ring, the completion out, the data copied from the buffer. */
export function localVdisk(capacity: number): LocalDevice {
  const model = createVdiskModel({ srcPath: '', capacity, readonly: false, blockSize: 512, counters: new VdiskCounters().buffer, memory: MemoryStore.allocate(capacity) });
  const c = new LocalConnection(model, VDISK_VERSION);
  const req = new RingProducer(c.bus, c.ring(c.region(VDISK_Q_REQUEST, SHM_RING_TO_DEVICE, 1 << 16)));
  const cpl = new RingConsumer(c.bus, c.ring(c.region(VDISK_Q_COMPLETE, SHM_RING_TO_GUEST, 1 << 16)));
  const data = c.region(VDISK_Q_DATA, SHM_BUFFER, 1 << 20);
  const d = new Uint8Array(REQ_BYTES);
  const dv = new DataView(d.buffer);
  const cb = new Uint8Array(CPL_BYTES);
  const cv = new DataView(cb.buffer);
  let id = 0;
  return {
    handle(offset, payload, out) {
      const len = payload.length === 4 ? new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0, true) : 0;
      d.fill(0);
      dv.setUint32(REQ_OFF_OP, VDISK_OP_READ, true);
      dv.setUint32(REQ_OFF_ID, ++id, true);
      dv.setUint32(REQ_OFF_LEN, len, true);
      dv.setUint32(REQ_OFF_BUF, data.offset, true);
      dv.setUint32(REQ_OFF_OFF_LO, offset >>> 0, true);
      dv.setUint32(REQ_OFF_OFF_HI, Math.floor(offset / 2 ** 32), true);
      if (req.push(d) < 0) return -28;
      model.poll!(c.conn);
      if (cpl.pop(cb) < 0 || cv.getUint32(CPL_OFF_ID, true) !== id) return -5; // EIO
      const st = cv.getInt32(CPL_OFF_STATUS, true);
      if (st < 0) return st;
      out.set(c.bus.u8.subarray(data.offset, data.offset + len));
      return len;
    },
    release() { model.close?.(c.conn); model.release(); },
  };
}

/** The echo model's call, with the payload as the request. */
export function localEcho(): LocalDevice {
  const c = new LocalConnection(createEcho(null), 1);
  return {
    handle(_offset, payload, out) {
      out.set(payload);
      return c.model.call!(c.conn, 1, out.subarray(0, payload.length), out) as number;
    },
    release() { /* nothing held */ },
  };
}

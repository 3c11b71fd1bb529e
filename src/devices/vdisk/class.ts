/**
 * The `vdisk` device class (interface `virtual-block`): `host.registerClass(vdiskClass)`.
 *
 * The model the host makes at `type` time ({@link VdiskDevice}) holds the device's
 * configuration, counters and (for a memory disk) its bytes. At the first link it opens
 * the store (creating or extending the file), which both checks the configuration (a
 * bad `src_path` refuses the link, naming the path) and fixes the geometry; at the last
 * unlink it closes it. In host placement it serves guests itself; in backend placement
 * each bus's backend worker opens the same file (or shares the same memory) with the
 * same model code, adding into the same shared counters.
 */
import type { BackendModelSpec } from '../../connector/backend/backend-proxy.js';
import type { DeviceConnection, ShmRegion } from '../../connector/types.js';
import type { DeviceClassSpec } from '../../host/device-class.js';
import type { DeviceModel } from '../../host/device-model.js';
import type { StateValue } from '../../state/codec.js';
import type { Device } from '../../host/device.js';
import { ERRNO, vbusError } from '../../errors.js';
import { VDISK_INTERFACE } from './abi.js';
import { vdiskAttributes, type VdiskAttrSource } from './attributes.js';
import { VdiskCounters, type VdiskCounter } from './counters.js';
import { createVdiskModel, type VdiskModel, type VdiskModelInit } from './model.js';
import { MemoryStore } from './store.js';
import { vdiskFiles } from './store-registry.js';
import { vdiskState } from './state.js';

/** Class name: the value written to a device's `type`. */
export const VDISK_CLASS = 'vdisk';

/** The host-thread model of one vdisk device. */
export class VdiskDevice implements DeviceModel, VdiskAttrSource {
  readonly counters = new VdiskCounters();
  private inner: VdiskModel | null = null;
  /** Geometry while linked (either placement); null while unlinked. */
  private geometry: { capacity: number } | null = null;
  private memory: SharedArrayBuffer | null = null;
  private backendInit: VdiskModelInit | null = null;

  constructor(private readonly device: Device) {}

  counter(name: VdiskCounter): number { return this.counters.get(name); }

  capacityText(): string {
    return this.geometry ? String(this.geometry.capacity) : this.capacityValue;
  }

  /** The configuration as written by the admin. */
  private configured(): Omit<VdiskModelInit, 'counters' | 'memory'> {
    const d = this.device;
    return {
      srcPath: d.attr('src_path'),
      capacity: Number(this.capacityValue),
      readonly: d.attr('readonly') === '1',
      blockSize: Number(d.attr('block_size')),
      queues: Number(d.attr('queues')),
    };
  }

  /**
   * The configured capacity. Its attribute has a `show` (the real size while linked), so
   * the written value is kept here, fed by attrChanged.
   */
  private capacityValue = '0';

  attrChanged(name: string, value: string): void {
    if (name === 'capacity') this.capacityValue = value;
    if (name === 'queues') {
      this.inner?.attrChanged(name, value); // a backend gets it from its proxy
      if (this.backendInit) this.backendInit = { ...this.backendInit, queues: Number(value) }; // for backends started later
    }
  }

  linked(): void {
    if (this.geometry) return; // a second bus shares the open disk
    const cfg = this.configured();
    let memory: SharedArrayBuffer | null = null;
    if (cfg.srcPath === '') {
      if (cfg.capacity === 0) throw vbusError('EINVAL', `vdisk ${this.device.name}: set capacity (bytes) for a memory-backed disk, or src_path for a file`, { device: this.device.name });
      // Keep the bytes across unlink/relink of the same size, like a file would.
      if (!this.memory || this.memory.byteLength !== cfg.capacity) this.memory = MemoryStore.allocate(cfg.capacity);
      memory = this.memory;
    }
    const init: VdiskModelInit = { ...cfg, counters: this.counters.buffer, memory, asyncFlush: this.device.placement === 'host' };
    const model = createVdiskModel(init); // opens (creates, extends) the store: throws to refuse the link
    this.geometry = { capacity: model.capacity };
    if (this.device.placement === 'backend') {
      model.release(); // each backend opens its own handle on the same file
      this.backendInit = { ...init, capacity: model.capacity, asyncFlush: false }; // a backend may block its own thread
    } else {
      this.inner = model;
    }
  }

  unlinked(): void {
    if (this.device.links().length > 0) return;
    this.inner?.release();
    this.inner = null;
    this.geometry = null;
    this.backendInit = null;
  }

  release(): void {
    this.unlinked();
    this.memory = null;
  }

  /** The bytes of a memory disk (null for a file, or before the first link). For src/devices/vdisk/state.ts. */
  memoryBacking(): SharedArrayBuffer | null { return this.memory; }
  /** Makes `bytes` the memory disk the next link serves (a loaded state's contents). */
  adoptMemory(bytes: SharedArrayBuffer | null): void { this.memory = bytes; }

  /** The backend's module, factory and start data (called at link time, after `linked`). */
  backendSpec(): BackendModelSpec {
    if (!this.backendInit) throw vbusError('ENODEV', `vdisk ${this.device.name}: not linked`);
    return {
      modelUrl: vdiskFiles().backendModelUrl,
      modelExport: 'createVdiskBackendModel',
      init: this.backendInit,
      // A fixed spin of ~15 us before parking (see DEFAULT_COMPLETION_SPIN in driver.ts):
      // an adaptive budget collapses to 0 on both sides at queue depth 1 and stays there.
      spin: { fixed: 50_000 },
    };
  }

  open(conn: DeviceConnection): void {
    if (!this.inner) throw vbusError('ENODEV', `vdisk ${this.device.name} is not linked`);
    this.inner.open!(conn);
  }
  call(conn: DeviceConnection, func: number, payload: Uint8Array, out: Uint8Array): number {
    return this.inner ? this.inner.call!(conn, func, payload, out) as number : -ERRNO.ENODEV;
  }
  shm(conn: DeviceConnection, region: ShmRegion): void {
    if (!this.inner) throw vbusError('ENODEV', `vdisk ${this.device.name} is not linked`);
    this.inner.shm!(conn, region);
  }
  poll(conn: DeviceConnection): number { return this.inner ? this.inner.poll!(conn) : 0; }
  close(conn: DeviceConnection): void { this.inner?.close!(conn); }
  // A save of the bus with its connections (src/connector/endpoint-tables.ts).
  saveConnection(conn: DeviceConnection): StateValue { return this.inner?.saveConnection?.(conn) ?? null; }
  resumeConnection(conn: DeviceConnection, saved: StateValue): void {
    if (!this.inner) throw vbusError('ENODEV', `vdisk ${this.device.name} is not linked`);
    this.inner.resumeConnection!(conn, saved);
  }
  idleRegion(conn: DeviceConnection, region: ShmRegion): boolean { return this.inner?.idleRegion?.(conn, region) ?? false; }
}

/** The class spec to register. */
export const vdiskClass: DeviceClassSpec = {
  name: VDISK_CLASS,
  interfaces: [VDISK_INTERFACE],
  attributes: vdiskAttributes,
  state: vdiskState,
  create: (device) => new VdiskDevice(device),
  backend: (device) => (device.model as VdiskDevice).backendSpec(),
};

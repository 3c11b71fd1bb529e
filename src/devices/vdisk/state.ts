/**
 * The saved state of a vdisk, format version 1:
 *
 *   counters  reads, writes, flushes, errors, inflight_max
 *   backing   'memory': `contents` holds the disk's bytes (null if it was never linked,
 *                       or when saved without images: a migration sends them apart)
 *             'file':   `path` and `size` name the file; its bytes stay in the file,
 *                       which the restoring side must be able to open (a link checks it)
 *
 * The geometry (capacity, block size, read-only) is in the attributes the contract
 * saves. Saved with the device quiet, the contents include every acknowledged write.
 */
import type { DeviceStateSpec, DeviceSaveOptions } from '../../state/contract.js';
import { takeOver } from '../../state/handover.js';
import { StateReader } from '../../state/read.js';
import type { StateValue } from '../../state/codec.js';
import type { Device } from '../../host/device.js';
import { vbusError } from '../../errors.js';
import { VDISK_COUNTERS, type VdiskCounter } from './counters.js';
import type { VdiskDevice } from './class.js';
import { MemoryStore } from './store.js';

/** The version this runtime writes. */
export const VDISK_STATE_VERSION = 1;

function model(device: Device): VdiskDevice {
  return device.model as unknown as VdiskDevice;
}

function save(device: Device, opts: DeviceSaveOptions = {}): StateValue {
  const m = model(device);
  const counters: Record<string, number> = {};
  for (const n of VDISK_COUNTERS) counters[n] = m.counter(n);
  const path = device.attr('src_path');
  if (path !== '') return { counters, backing: 'file', path, size: Number(device.attr('capacity')) };
  const mem = m.memoryBacking();
  return { counters, backing: 'memory', contents: mem && !opts.withoutImages ? new Uint8Array(mem).slice() : null };
}

function prepare(device: Device, data: StateValue, _version: number, attrs: Readonly<Record<string, string>>): () => void {
  const m = model(device);
  const r = new StateReader(data, 'vdisk state');
  const c = r.field('counters');
  const counters = {} as Record<VdiskCounter, number>;
  for (const n of VDISK_COUNTERS) counters[n] = c.field(n).int();
  const backing = r.field('backing').oneOf(['memory', 'file'] as const);
  const path = attrs['src_path'] ?? '';
  if ((backing === 'file') !== (path !== '')) {
    throw vbusError('EINVAL', `vdisk state: backing ${backing} does not match src_path ${JSON.stringify(path)}`, { device: device.name, backing, path });
  }
  let memory: SharedArrayBuffer | null = null;
  if (backing === 'file') {
    const saved = r.field('path').str();
    if (saved !== path) throw vbusError('EINVAL', `vdisk state: backing file ${JSON.stringify(saved)} is not src_path ${JSON.stringify(path)}`, { device: device.name });
    r.field('size').int();
  } else {
    const cr = r.field('contents');
    if (cr.value !== null) {
      const bytes = cr.bytes();
      const cap = Number(attrs['capacity'] ?? '0');
      if (bytes.length !== cap) throw vbusError('EINVAL', `vdisk state: ${bytes.length} bytes of contents for a capacity of ${cap}`, { device: device.name, bytes: bytes.length, capacity: cap });
      memory = takeOver(bytes); // a migration's landing buffer, given up to this disk
      if (!memory) {
        memory = MemoryStore.allocate(bytes.length);
        new Uint8Array(memory).set(bytes);
      }
    }
  }
  return () => {
    m.counters.restore(counters);
    m.adoptMemory(memory);
  };
}

/** A memory disk's bytes, live (the `contents` field `save` copies). */
function images(device: Device): Record<string, Uint8Array> {
  const mem = model(device).memoryBacking();
  return device.attr('src_path') === '' && mem ? { contents: new Uint8Array(mem) } : {};
}

/**
 * Always settled: a vdisk completes a request only once it is applied, and a quiesced
 * guest has had every request completed, so nothing it sent is still held.
 */
const settled = (): boolean => true;

/** The state format of the vdisk class. */
export const vdiskState: DeviceStateSpec = { version: VDISK_STATE_VERSION, save, prepare, images, settled };

/**
 * The attributes of a vdisk device, as the admin sees them (`/config/vbus/devices/NAME/...`).
 * Configuration (`src_path`, `capacity`, `readonly`, `block_size`) is fixed while the
 * device is linked (EBUSY): the geometry a guest learned at open must not change under it.
 * `queues` (multiqueue cap) may change at any time: it caps later negotiations.
 */
import type { AttributeSpec } from '../../host/attributes.js';
import type { Device } from '../../host/device.js';
import { vbusError } from '../../errors.js';
import { VDISK_MAX_BLOCK, VDISK_MIN_BLOCK, VDISK_MAX_BYTES, VDISK_MAX_QUEUES } from './abi.js';
import { queuesAttribute } from '../queues-attribute.js';
import { VDISK_COUNTERS, type VdiskCounter } from './counters.js';

/** What the attributes need from the device's model. */
export interface VdiskAttrSource {
  counter(name: VdiskCounter): number;
  /** The capacity to show: the disk's real size while linked, else the configured value. */
  capacityText(): string;
}

function unlinked(device: Device, name: string): void {
  if (device.links().length > 0) {
    throw vbusError('EBUSY', `vdisk ${device.name}: ${name} cannot change while the device is linked; unlink it first`, { device: device.name, attribute: name });
  }
}

const SUFFIX: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Parses a byte count: decimal, optionally with a K/M/G/T (binary) suffix. */
export function parseBytes(text: string, what: string): number {
  const m = /^\s*(\d+)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  const v = m ? Number(m[1]) * SUFFIX[m[2]!.toLowerCase()]! : NaN;
  if (!Number.isSafeInteger(v) || v > VDISK_MAX_BYTES) {
    throw vbusError('EINVAL', `${what} ${JSON.stringify(text)} must be a byte count (digits, optional K/M/G/T suffix) up to 2^53`, { value: text });
  }
  return v;
}

function source(device: Device): VdiskAttrSource {
  return device.model as unknown as VdiskAttrSource;
}

export const vdiskAttributes: AttributeSpec[] = [
  {
    name: 'src_path', mode: 'rw', initial: '',
    parse(text, device) {
      unlinked(device, 'src_path');
      if (text.includes('\0')) throw vbusError('EINVAL', `vdisk ${device.name}: src_path must not contain NUL`, { device: device.name });
      return text.trim();
    },
  },
  {
    name: 'capacity', mode: 'rw', initial: '0',
    parse(text, device) {
      unlinked(device, 'capacity');
      const v = parseBytes(text, `vdisk ${device.name}: capacity`);
      const bs = Number(device.attr('block_size'));
      if (v % bs !== 0) throw vbusError('EINVAL', `vdisk ${device.name}: capacity ${v} is not a multiple of the block size ${bs}`, { device: device.name, capacity: v, blockSize: bs });
      return String(v);
    },
    show: (device) => source(device).capacityText(),
  },
  {
    name: 'readonly', mode: 'rw', initial: '0',
    parse(text, device) {
      unlinked(device, 'readonly');
      const t = text.trim().toLowerCase();
      if (t === '1' || t === 'true') return '1';
      if (t === '0' || t === 'false') return '0';
      throw vbusError('EINVAL', `vdisk ${device.name}: readonly ${JSON.stringify(text)} must be 0 or 1`, { device: device.name, value: text });
    },
  },
  {
    name: 'block_size', mode: 'rw', initial: String(VDISK_MIN_BLOCK),
    parse(text, device) {
      unlinked(device, 'block_size');
      const v = Number(text.trim());
      if (!Number.isInteger(v) || v < VDISK_MIN_BLOCK || v > VDISK_MAX_BLOCK || (v & (v - 1)) !== 0) {
        throw vbusError('EINVAL', `vdisk ${device.name}: block_size ${JSON.stringify(text)} must be a power of two from ${VDISK_MIN_BLOCK} to ${VDISK_MAX_BLOCK}`, { device: device.name, value: text });
      }
      const cap = Number(source(device).capacityText());
      if (cap % v !== 0) throw vbusError('EINVAL', `vdisk ${device.name}: capacity ${cap} is not a multiple of block_size ${v}`, { device: device.name, capacity: cap, blockSize: v });
      return String(v);
    },
  },
  queuesAttribute(VDISK_MAX_QUEUES), // may change while linked: it caps later negotiations
  ...VDISK_COUNTERS.map((name): AttributeSpec => ({ name, mode: 'ro', initial: '0', show: (device) => String(source(device).counter(name)) })),
];

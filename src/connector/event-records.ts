/**
 * The event records of a member's event ring (layout: assembly/layout/event.ts), encoded
 * by the host and decoded by the guest with the same offsets, in one place.
 */
import {
  EV_ADD_OFF_DEVID, EV_ADD_OFF_IFACE_LEN, EV_ADD_OFF_IFACE, EV_ADD_BYTES, EV_DROP_OFF_DEVID, EV_DROP_BYTES,
  EV_DEV_OFF_DEVID, EV_DEV_OFF_HANDLE, EV_DEV_OFF_CODE, EV_DEV_OFF_ARG, EV_DEV_BYTES, EV_IFACE_MAX,
} from '../../assembly/layout/event.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** An interface name's UTF-8 bytes, or null when it is too long to be carried by DEVADD. */
export function ifaceBytes(iface: string): Uint8Array | null {
  const b = encoder.encode(iface);
  return b.length > EV_IFACE_MAX ? null : b;
}

export function encodeDevAdd(id: number, iface: Uint8Array): Uint8Array {
  const rec = new Uint8Array(EV_ADD_BYTES + iface.length);
  const dv = new DataView(rec.buffer);
  dv.setUint32(EV_ADD_OFF_DEVID, id >>> 0, true);
  dv.setUint32(EV_ADD_OFF_IFACE_LEN, iface.length, true);
  rec.set(iface, EV_ADD_OFF_IFACE);
  return rec;
}

export function encodeDevDrop(id: number): Uint8Array {
  const rec = new Uint8Array(EV_DROP_BYTES);
  new DataView(rec.buffer).setUint32(EV_DROP_OFF_DEVID, id >>> 0, true);
  return rec;
}

export function encodeDevEvent(id: number, handle: number, code: number, arg: number): Uint8Array {
  const rec = new Uint8Array(EV_DEV_BYTES);
  const dv = new DataView(rec.buffer);
  dv.setUint32(EV_DEV_OFF_DEVID, id >>> 0, true);
  dv.setUint32(EV_DEV_OFF_HANDLE, handle >>> 0, true);
  dv.setUint32(EV_DEV_OFF_CODE, code >>> 0, true);
  dv.setUint32(EV_DEV_OFF_ARG, arg >>> 0, true);
  return rec;
}

export const EMPTY_EVENT = new Uint8Array(0);

/** DEVADD's fields, or null for a record that is not a well-formed DEVADD (the guest drops it). */
export function decodeDevAdd(rec: Uint8Array, len: number): { id: number; iface: string } | null {
  if (len < EV_ADD_BYTES) return null;
  const dv = new DataView(rec.buffer, rec.byteOffset, len);
  const n = dv.getUint32(EV_ADD_OFF_IFACE_LEN, true);
  if (n > EV_IFACE_MAX || EV_ADD_OFF_IFACE + n > len) return null;
  return { id: dv.getUint32(EV_ADD_OFF_DEVID, true), iface: decoder.decode(rec.subarray(EV_ADD_OFF_IFACE, EV_ADD_OFF_IFACE + n)) };
}

export function decodeDevDrop(rec: Uint8Array, len: number): number | null {
  if (len < EV_DROP_BYTES) return null;
  return new DataView(rec.buffer, rec.byteOffset, len).getUint32(EV_DROP_OFF_DEVID, true);
}

export function decodeDevEvent(rec: Uint8Array, len: number): { deviceId: number; handle: number; code: number; arg: number } | null {
  if (len < EV_DEV_BYTES) return null;
  const dv = new DataView(rec.buffer, rec.byteOffset, len);
  return {
    deviceId: dv.getUint32(EV_DEV_OFF_DEVID, true), handle: dv.getUint32(EV_DEV_OFF_HANDLE, true),
    code: dv.getUint32(EV_DEV_OFF_CODE, true), arg: dv.getUint32(EV_DEV_OFF_ARG, true),
  };
}

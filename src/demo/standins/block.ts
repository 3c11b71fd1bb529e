/**
 * Stand-in `vdisk` (interface `virtual-block`) for the demo until the real class is
 * merged: a memory-backed disk served by DEVCALLs (the real one uses request rings).
 * Same class and interface names, so the topology and the page do not change when the
 * real class replaces it.
 *
 *   INFO   (func 1): request empty;                    reply u32 sector size, u32 sectors
 *   WRITE  (func 2): request u32 lba, u32 count, data;  reply empty
 *   READ   (func 3): request u32 lba, u32 count;        reply count * 512 bytes
 */
import type { DeviceClassSpec } from '../../host/device-class.js';
import type { Device } from '../../host/device.js';
import type { Connection } from '../../guest/connection.js';
import type { GuestConnector } from '../../guest/connector.js';
import { ERRNO, vbusError } from '../../errors.js';
import { callModel, putU32, u32At, type CallCounters } from './call-model.js';

export const BLOCK_INTERFACE = 'virtual-block';
export const BLOCK_VERSION = 1;
export const BLOCK_FUNC_INFO = 1;
export const BLOCK_FUNC_WRITE = 2;
export const BLOCK_FUNC_READ = 3;
export const SECTOR_BYTES = 512;
/** Bytes of the WRITE/READ request header (lba, count). */
export const BLOCK_REQ_HEADER = 8;

interface DiskState extends CallCounters { reads: number; writes: number; bytes: Uint8Array }
const disks = new WeakMap<Device, DiskState>();

function parseSizeMb(text: string): string {
  const t = text.trim();
  const n = /^\d+$/.test(t) ? Number(t) : NaN;
  if (!(n >= 1 && n <= 256)) throw vbusError('EINVAL', `size_mb ${JSON.stringify(text)} must be an integer from 1 to 256`, { value: text });
  return String(n);
}

/** The class: memory backing (`src_path` is not offered: the stand-in has no files). */
export const blockStandinClass: DeviceClassSpec = {
  name: 'vdisk',
  interfaces: [BLOCK_INTERFACE],
  exclusive: true,
  attributes: [
    { name: 'size_mb', mode: 'rw', initial: '4', parse: parseSizeMb },
    { name: 'backing', mode: 'ro', show: () => 'memory' },
    { name: 'reads', mode: 'ro', show: (d) => String(disks.get(d)?.reads ?? 0) },
    { name: 'writes', mode: 'ro', show: (d) => String(disks.get(d)?.writes ?? 0) },
    { name: 'calls', mode: 'ro', show: (d) => String(disks.get(d)?.calls ?? 0) },
  ],
  create(device) {
    const st: DiskState = { calls: 0, errors: 0, reads: 0, writes: 0, bytes: new Uint8Array(0) };
    disks.set(device, st);
    // The backing is sized on first use, so a size_mb written before the first open counts.
    const disk = (): Uint8Array => {
      if (st.bytes.length === 0) st.bytes = new Uint8Array(Number(device.attr('size_mb')) * 1024 * 1024);
      return st.bytes;
    };
    const range = (req: Uint8Array, out: Uint8Array): [number, number] | null => {
      const lba = u32At(req, 0);
      const count = u32At(req, 4);
      const sectors = disk().length / SECTOR_BYTES;
      if (lba < 0 || count <= 0 || lba + count > sectors || count * SECTOR_BYTES > out.length) return null;
      return [lba * SECTOR_BYTES, count * SECTOR_BYTES];
    };
    return callModel(BLOCK_VERSION, {
      [BLOCK_FUNC_INFO]: (_req, out) => { putU32(out, 0, SECTOR_BYTES); putU32(out, 4, disk().length / SECTOR_BYTES); return 8; },
      [BLOCK_FUNC_WRITE]: (req, out) => {
        const r = range(req, out);
        if (!r || req.length !== BLOCK_REQ_HEADER + r[1]) return -ERRNO.EINVAL;
        disk().set(req.subarray(BLOCK_REQ_HEADER), r[0]);
        st.writes++;
        return 0;
      },
      [BLOCK_FUNC_READ]: (req, out) => {
        const r = range(req, out);
        if (!r) return -ERRNO.EINVAL;
        out.set(disk().subarray(r[0], r[0] + r[1]));
        st.reads++;
        return r[1];
      },
    }, st);
  },
};

/** Guest side of the stand-in disk. */
export class BlockStandinDriver {
  readonly sectors: number;
  readonly sectorBytes: number;
  private readonly conn: Connection;
  constructor(guest: GuestConnector, id: number) {
    this.conn = guest.open(id, BLOCK_VERSION);
    const info = this.conn.call(BLOCK_FUNC_INFO);
    this.sectorBytes = u32At(info, 0);
    this.sectors = u32At(info, 4);
  }
  /** Largest number of sectors one request may carry (bounded by the call slot). */
  get maxSectors(): number { return Math.floor((this.conn.payloadMax - BLOCK_REQ_HEADER) / this.sectorBytes); }
  write(lba: number, data: Uint8Array): void {
    const req = new Uint8Array(BLOCK_REQ_HEADER + data.length);
    putU32(req, 0, lba);
    putU32(req, 4, data.length / this.sectorBytes);
    req.set(data, BLOCK_REQ_HEADER);
    this.conn.call(BLOCK_FUNC_WRITE, req);
  }
  read(lba: number, count: number): Uint8Array {
    const req = new Uint8Array(BLOCK_REQ_HEADER);
    putU32(req, 0, lba);
    putU32(req, 4, count);
    return this.conn.call(BLOCK_FUNC_READ, req);
  }
  close(): void { try { this.conn.close(); } catch { /* already gone */ } }
}

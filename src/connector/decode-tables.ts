/**
 * The host's private decode state (DESIGN "Memory and isolation"): device tables per bus
 * and handle tables per member, in a memory that is never posted to a guest. The core's
 * decode_request validates a request against them (assembly/decode.ts); this class only
 * writes entries and copies request words in.
 */
import {
  DT_ENTRY_BYTES, DT_OFF_GEN, DT_ENTRIES, HT_ENTRY_BYTES, HT_OFF_DEVID, HT_OFF_GEN,
  HT_OFF_OPEN, HT_OFF_SHMS, HT_ENTRIES,
} from '../../assembly/layout/decode.js';
import { SLOT_OFF_OP, SLOT_REQUEST_BYTES } from '../../assembly/layout/callslot.js';
import { BusMemory } from '../core/bus-memory.js';
import { isMessageCoreModule } from '../core/core-module.js';

export { DT_ENTRIES, HT_ENTRIES };

export class DecodeTables {
  /** Private memory: allocated here, never handed out. */
  private readonly mem: BusMemory;
  private readonly req: number;
  /** Offset of the decoded request; read with the `decoded*` getters. */
  readonly out: number;

  constructor(module?: WebAssembly.Module) {
    // Never shared with anyone: a private memory (the message build of the core) unless
    // the caller hands a module of the shared build.
    const shared = module !== undefined && !isMessageCoreModule(module);
    this.mem = BusMemory.create({ bytes: 1 << 20, transport: shared ? 'shared' : 'message', ...(module ? { module } : {}) });
    this.req = this.mem.allocRegion(SLOT_REQUEST_BYTES, 'request copy');
    this.out = this.mem.allocRegion(SLOT_REQUEST_BYTES, 'decoded request');
  }

  allocDeviceTable(): number {
    const off = this.mem.allocRegion(DT_ENTRIES * DT_ENTRY_BYTES, 'device table');
    this.mem.u8.fill(0, off, off + DT_ENTRIES * DT_ENTRY_BYTES);
    return off;
  }
  allocHandleTable(): number {
    const off = this.mem.allocRegion(HT_ENTRIES * HT_ENTRY_BYTES, 'handle table');
    this.mem.u8.fill(0, off, off + HT_ENTRIES * HT_ENTRY_BYTES);
    return off;
  }
  freeTable(off: number): void { this.mem.freeRegion(off); }

  setDevice(tab: number, id: number, gen: number): void { this.mem.u32[(tab + id * DT_ENTRY_BYTES + DT_OFF_GEN) >> 2] = gen; }
  setHandle(tab: number, h: number, devId: number, gen: number): void {
    const e = (tab + h * HT_ENTRY_BYTES) >> 2;
    this.mem.u32[e + (HT_OFF_DEVID >> 2)] = devId;
    this.mem.u32[e + (HT_OFF_GEN >> 2)] = gen;
    this.mem.u32[e + (HT_OFF_SHMS >> 2)] = 0;
    this.mem.u32[e + (HT_OFF_OPEN >> 2)] = 1;
  }
  clearHandle(tab: number, h: number): void { this.mem.u8.fill(0, tab + h * HT_ENTRY_BYTES, tab + (h + 1) * HT_ENTRY_BYTES); }
  setShmCount(tab: number, h: number, n: number): void { this.mem.u32[(tab + h * HT_ENTRY_BYTES + HT_OFF_SHMS) >> 2] = n; }

  /**
   * Copies the request words of the call slot at `slot` out of `bus` (each shared word
   * read exactly once), then decodes them. Returns the opcode (> 0) or a negative errno.
   */
  decode(bus: BusMemory, slot: number, devTab: number, hTab: number, payloadMax: number): number {
    const src = (slot + SLOT_OFF_OP) >> 2;
    const dst = this.req >> 2;
    const from = bus.u32, to = this.mem.u32;
    for (let i = 0; i < SLOT_REQUEST_BYTES >> 2; i++) to[dst + i] = from[src + i]!;
    return this.mem.core.decode_request(this.req, devTab, DT_ENTRIES, hTab, HT_ENTRIES, payloadMax, this.out);
  }

  /** The field at CALL_* offset `at` (assembly/layout/callslot.ts) of the last decoded request. */
  field(at: number): number { return this.mem.u32[(this.out + at) >> 2]!; }

  /** Validates a guest-supplied range against a region (0 or -EINVAL), in the core. */
  checkRange(base: number, bytes: number, offset: number, len: number): number {
    return this.mem.core.decode_range(base >>> 0, bytes >>> 0, offset >>> 0, len >>> 0);
  }
}


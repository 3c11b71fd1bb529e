/**
 * A bus memory: one shared WebAssembly.Memory per bus, sized at creation and never
 * grown (growing a shared memory invalidates every thread's views).
 *
 * Allocation is apart from attachment: the host creates the memory and places regions
 * in it with a host-private allocator; a guest attaches to a memory it was handed and
 * can only use regions whose descriptors the host gave it.
 */
import {
  BUS_MAGIC, BUS_VERSION, BUS_OFF_MAGIC, BUS_OFF_VERSION, BUS_OFF_BYTES, BUS_OFF_ID,
  BUS_FIRST_REGION, WASM_PAGE, CORE_MAX_PAGES,
} from '../../assembly/layout/bus.js';
import { REGION_ALIGN } from '../../assembly/layout/ring.js';
import { vbusError } from '../errors.js';
import { checkSharedMemory } from '../platform/shared-memory.js';
import { CoreExports, coreModule, instantiateCore, messageCoreModule } from './core-module.js';
import { RegionAllocator } from './region-allocator.js';

export interface BusMemoryOptions {
  /** Bytes the bus needs; rounded up to whole 64 KiB pages. Default: one page. */
  bytes?: number;
  /** A number written into the header, for diagnostics. */
  busId?: number;
  /** The compiled core; defaults to this thread's copy of the build for `transport`. */
  module?: WebAssembly.Module;
  /**
   * 'shared' (default): a shared WebAssembly.Memory that every thread of the bus maps.
   * 'message': a private memory; each side keeps its own copy and src/transport/ carries
   * the changes between them in messages (where SharedArrayBuffer is not allowed).
   */
  transport?: BusTransport;
}

/** How a bus memory reaches the other threads of its bus. */
export type BusTransport = 'shared' | 'message';

/** Largest bus memory: the core module's declared maximum (asconfig.json). */
export const MAX_BUS_BYTES = CORE_MAX_PAGES * WASM_PAGE;

export class BusMemory {
  readonly memory: WebAssembly.Memory;
  readonly core: CoreExports;
  readonly module: WebAssembly.Module;
  readonly byteLength: number;
  readonly u8: Uint8Array;
  readonly i32: Int32Array;
  readonly u32: Uint32Array;
  readonly view: DataView;
  /** Host-side allocator; null on a guest's attachment. */
  readonly allocator: RegionAllocator | null;
  /** 'shared', or 'message' for a private copy kept in step by src/transport/. */
  readonly transport: BusTransport;
  private released = false;

  private constructor(memory: WebAssembly.Memory, module: WebAssembly.Module, allocator: RegionAllocator | null, transport: BusTransport = 'shared') {
    this.memory = memory;
    this.module = module;
    this.transport = transport;
    this.core = instantiateCore(module, memory);
    const buf = memory.buffer as unknown as SharedArrayBuffer;
    this.byteLength = buf.byteLength;
    this.u8 = new Uint8Array(buf);
    this.i32 = new Int32Array(buf);
    this.u32 = new Uint32Array(buf);
    this.view = new DataView(buf);
    this.allocator = allocator;
  }

  /** Host: creates a bus memory of at least `bytes` bytes. */
  static create(opts: BusMemoryOptions = {}): BusMemory {
    const bytes = opts.bytes ?? WASM_PAGE;
    if (!Number.isFinite(bytes) || bytes <= 0 || bytes > MAX_BUS_BYTES) {
      throw vbusError('EINVAL', `bus memory size ${bytes} must be between 1 and ${MAX_BUS_BYTES} bytes`, { bytes });
    }
    const transport = opts.transport ?? 'shared';
    if (transport !== 'shared' && transport !== 'message') {
      throw vbusError('EINVAL', `bus transport '${String(transport)}' must be 'shared' or 'message'`, { transport });
    }
    if (transport === 'shared') checkSharedMemory(); // names the missing COOP/COEP headers in a browser
    const pages = Math.ceil(bytes / WASM_PAGE);
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: transport === 'shared' });
    const total = pages * WASM_PAGE;
    const module = opts.module ?? (transport === 'shared' ? coreModule() : messageCoreModule());
    const bm = new BusMemory(memory, module, new RegionAllocator(BUS_FIRST_REGION, total, REGION_ALIGN), transport);
    bm.headerId = (opts.busId ?? 0) >>> 0;
    bm.writeHeader();
    return bm;
  }

  /** The bus id, kept in host memory: the header in the bus memory is guest-writable. */
  private headerId = 0;

  private writeHeader(): void {
    const u32 = this.u32;
    u32[BUS_OFF_VERSION >> 2] = BUS_VERSION;
    u32[BUS_OFF_BYTES >> 2] = this.byteLength;
    u32[BUS_OFF_ID >> 2] = this.headerId;
    Atomics.store(u32, BUS_OFF_MAGIC >> 2, BUS_MAGIC); // header fields before the magic that vouches for them
  }

  /**
   * Host: re-verifies the header (its first line) against the host's own copy and
   * rewrites it when a guest overwrote it, so joining never depends on what a guest
   * left there. Returns true when it had to restore it.
   */
  restoreHeader(): boolean {
    if (!this.allocator) throw vbusError('EPERM', 'only the host that created a bus memory owns its header');
    const u32 = this.u32;
    if (Atomics.load(u32, BUS_OFF_MAGIC >> 2) === BUS_MAGIC && u32[BUS_OFF_VERSION >> 2] === BUS_VERSION
      && u32[BUS_OFF_BYTES >> 2] === this.byteLength && u32[BUS_OFF_ID >> 2] === this.headerId) return false;
    this.writeHeader();
    return true;
  }

  /** Guest: attaches to a bus memory handed over by the host; checks magic and version. */
  static attach(memory: WebAssembly.Memory, module: WebAssembly.Module = coreModule()): BusMemory {
    const buf = memory.buffer;
    if (!(typeof SharedArrayBuffer !== 'undefined' && buf instanceof SharedArrayBuffer)) {
      throw vbusError('EINVAL', 'bus memory must be a shared WebAssembly.Memory');
    }
    const u32 = new Uint32Array(buf, 0, 16);
    const magic = Atomics.load(u32, BUS_OFF_MAGIC >> 2); // magic before the fields it vouches for
    if (magic !== BUS_MAGIC) {
      throw vbusError('EINVAL', `not a bus memory: magic 0x${magic.toString(16)} (expected 0x${BUS_MAGIC.toString(16)})`, { magic });
    }
    const version = u32[BUS_OFF_VERSION >> 2]!;
    if (version !== BUS_VERSION) {
      throw vbusError('EINVAL', `bus memory version ${version} is not supported (expected ${BUS_VERSION})`, { version });
    }
    return new BusMemory(memory, module, null);
  }

  /**
   * Message transport, guest side: wraps a private memory that already holds the host's
   * snapshot of the bus (src/transport/ keeps it in step). Checks magic and version.
   */
  static attachPrivate(memory: WebAssembly.Memory, module: WebAssembly.Module = messageCoreModule()): BusMemory {
    if (typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer) {
      throw vbusError('EINVAL', 'a message-transport bus memory must be private, not shared');
    }
    const u32 = new Uint32Array(memory.buffer, 0, 16);
    if (u32[BUS_OFF_MAGIC >> 2] !== BUS_MAGIC || u32[BUS_OFF_VERSION >> 2] !== BUS_VERSION) {
      throw vbusError('EINVAL', `not a bus memory of version ${BUS_VERSION}: magic 0x${u32[BUS_OFF_MAGIC >> 2]!.toString(16)}, version ${u32[BUS_OFF_VERSION >> 2]}`, { magic: u32[BUS_OFF_MAGIC >> 2] });
    }
    return new BusMemory(memory, module, null, 'message');
  }

  /**
   * Message transport: replaces the core's exports by a wrapper (it must see every
   * signal raised, src/transport/core-hooks.ts). Only before any ring or signal view is
   * made over this memory; the views copy `core`.
   * @internal
   */
  _wrapCore(wrap: (core: CoreExports) => CoreExports): void {
    (this as { core: CoreExports }).core = wrap(this.core);
  }

  /** Bus id written at creation. */
  get busId(): number { return this.allocator ? this.headerId : this.u32[BUS_OFF_ID >> 2]!; }

  /** Host: places a region of `bytes` bytes; returns its offset. Throws ENOSPC when full. */
  allocRegion(bytes: number, what?: string): number {
    if (!this.allocator) throw vbusError('EPERM', 'only the host that created a bus memory can place regions in it');
    this.assertLive();
    return this.allocator.alloc(bytes, what);
  }

  /** Host: returns a region to the allocator. */
  freeRegion(offset: number): void {
    if (!this.allocator) throw vbusError('EPERM', 'only the host that created a bus memory can free regions in it');
    this.allocator.release(offset);
  }

  /** Throws EINVAL unless `[offset, offset+bytes)` lies inside the memory. */
  checkRange(offset: number, bytes: number, what = 'range'): void {
    if (!Number.isInteger(offset) || !Number.isInteger(bytes) || offset < 0 || bytes < 0 || offset + bytes > this.byteLength) {
      throw vbusError('EINVAL', `${what} [${offset}, ${offset}+${bytes}) does not fit the bus memory of ${this.byteLength} bytes`, { offset, bytes, memoryBytes: this.byteLength });
    }
  }

  /** Marks the memory released; later region placement throws. Views held elsewhere stay valid until collected. */
  release(): void { this.released = true; }
  get isReleased(): boolean { return this.released; }

  private assertLive(): void {
    if (this.released) throw vbusError('ENODEV', 'bus memory was released');
  }
}

/**
 * Loading the core. The module is compiled once per thread and instantiated once per
 * bus memory (the instance imports the memory). Plain WebAssembly.Instance exports are
 * used directly: the deprecated @assemblyscript/loader would wrap each in a closure
 * (about 4.5 ns more per call).
 */
import { CORE_WASM_BASE64, CORE_MESSAGE_WASM_BASE64 } from './core-wasm.generated.js';

/** The core's exports, as the TypeScript runtime calls them. All values are i32/u32. */
export interface CoreExports {
  ring_init(ring: number, cap: number): number;
  ring_check(ring: number, cap: number): number;
  ring_fault(ring: number): number;
  ring_used(ring: number, cap: number): number;
  ring_reserve(ring: number, cap: number, len: number, tag: number): number;
  ring_commit(ring: number, cap: number): number;
  ring_push(ring: number, cap: number, src: number, len: number, tag: number): number;
  ring_push_batch(ring: number, cap: number, iov: number, n: number): number;
  ring_peek(ring: number, cap: number): number;
  ring_release(ring: number, cap: number): number;
  ring_rewind(ring: number, cap: number): number;
  ring_pop(ring: number, cap: number, dst: number, dstCap: number): number;
  ring_pop_batch(ring: number, cap: number, dst: number, dstCap: number, maxN: number): number;
  ring_skip(ring: number, cap: number, maxN: number): number;
  ring_result_ptr(): number;
  ring_result_tag(): number;
  sig_init(sig: number): number;
  sig_check(sig: number): number;
  sig_raise(sig: number): number;
  sig_enable(sig: number): void;
  sig_disable(sig: number): void;
  sig_spin(sig: number, spins: number): number;
  spin_while(addr: number, value: number, spins: number): number;
  decode_request(req: number, devTab: number, devN: number, hTab: number, hN: number, payloadMax: number, out: number): number;
  decode_range(base: number, bytes: number, offset: number, len: number): number;
}

let bytes: Uint8Array | undefined;
let compiled: WebAssembly.Module | undefined;
let messageBytes: Uint8Array | undefined;
let messageCompiled: WebAssembly.Module | undefined;

function decode(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The core's wasm bytes (embedded at build time). */
export function coreWasmBytes(): Uint8Array {
  bytes ??= decode(CORE_WASM_BASE64);
  return bytes;
}

/**
 * The message transport's build of the same core: it imports a private (not shared)
 * memory, for threads that may not share memory (src/transport/).
 */
export function messageCoreWasmBytes(): Uint8Array {
  messageBytes ??= decode(CORE_MESSAGE_WASM_BASE64);
  return messageBytes;
}

/** The compiled message build, synchronously (Node, workers). */
export function messageCoreModule(): WebAssembly.Module {
  messageCompiled ??= new WebAssembly.Module(messageCoreWasmBytes() as BufferSource);
  return messageCompiled;
}

/** The compiled message build, asynchronously (works on a page's main thread). */
export async function loadMessageCoreModule(): Promise<WebAssembly.Module> {
  messageCompiled ??= await WebAssembly.compile(messageCoreWasmBytes() as BufferSource);
  return messageCompiled;
}

/** True for a module of the message build (it imports a private memory). */
export function isMessageCoreModule(mod: WebAssembly.Module): boolean {
  return mod === messageCompiled;
}

/**
 * The compiled core, synchronously. Fine in Node and in workers; a browser main thread
 * may refuse synchronous compiles of larger modules, so pages use {@link loadCoreModule}.
 */
export function coreModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(coreWasmBytes() as BufferSource);
  return compiled;
}

/** The compiled core, asynchronously (works everywhere). */
export async function loadCoreModule(): Promise<WebAssembly.Module> {
  compiled ??= await WebAssembly.compile(coreWasmBytes() as BufferSource);
  return compiled;
}

/** Adopts a module compiled elsewhere (posted from the host to a worker). */
export function adoptCoreModule(mod: WebAssembly.Module): void {
  compiled = mod;
}

/** One instance of the core over `memory`. */
export function instantiateCore(mod: WebAssembly.Module, memory: WebAssembly.Memory): CoreExports {
  const inst = new WebAssembly.Instance(mod, { env: { memory } });
  return inst.exports as unknown as CoreExports;
}

/**
 * The `memory` endpoint: the console's host side is a buffer in the host process, read
 * and written through the typed API (`ConsoleModel.hostRead/hostWrite/onOutput`). It
 * is the only endpoint a browser has, and the one tests and embedders use directly.
 */
import type { ConsoleEndpoint, EndpointSink } from './endpoint.js';

/** Default cap on unread guest output held by a memory endpoint before the guest is paused. */
export const MEMORY_OUTPUT_LIMIT = 1 << 20;

interface PendingWrite { bytes: Uint8Array; done: () => void }

export class ConsoleMemoryEndpoint implements ConsoleEndpoint {
  readonly spec = 'memory';
  private out: Uint8Array[] = [];
  private outBytes = 0;
  private blocked = false;
  private paused = false;
  private closed = false;
  private readonly queued: PendingWrite[] = [];
  private readonly listeners = new Set<(bytes: Uint8Array) => void>();

  constructor(private readonly sink: EndpointSink, readonly limit = MEMORY_OUTPUT_LIMIT) {}

  /** Unread guest output, in bytes. */
  get buffered(): number { return this.outBytes; }

  write(chunk: Uint8Array): boolean {
    if (this.listeners.size > 0) {
      for (const fn of this.listeners) fn(chunk);
      return true;
    }
    this.out.push(chunk);
    this.outBytes += chunk.length;
    if (this.outBytes >= this.limit) this.blocked = true;
    return !this.blocked;
  }

  /** Unread guest output and host input not yet taken by the device, without taking them (a saved state). */
  peek(): { output: Uint8Array; input: Uint8Array[]; inputEnd: boolean } {
    const ended = this.queued.some((q) => q.bytes.length === 0);
    return { output: concat(this.out, this.outBytes).slice(), input: this.queued.filter((q) => q.bytes.length > 0).map((q) => q.bytes), inputEnd: ended };
  }

  /**
   * Replaces what the endpoint holds by a saved state's output (a load replaces, it does
   * not add): host writes not yet taken are dropped (their promises resolve).
   */
  replace(output: Uint8Array): void {
    for (const q of this.queued.splice(0)) q.done();
    this.out = output.length > 0 ? [output.slice()] : [];
    this.outBytes = output.length;
    this.blocked = this.outBytes >= this.limit;
  }

  /** Takes all unread guest output (and lets a paused guest write again). */
  read(): Uint8Array {
    const all = concat(this.out, this.outBytes);
    this.out = [];
    this.outBytes = 0;
    if (this.blocked) { this.blocked = false; this.sink.drained(); }
    return all;
  }

  /**
   * Delivers guest output to `fn` as it arrives instead of buffering it; anything
   * already buffered is delivered first. Returns an unsubscribe function.
   */
  onOutput(fn: (bytes: Uint8Array) => void): () => void {
    if (this.outBytes > 0) fn(this.read());
    this.listeners.add(fn);
    if (this.blocked) { this.blocked = false; this.sink.drained(); }
    return () => { this.listeners.delete(fn); };
  }

  /** Queues host input for the guest; resolves once the device has taken it. */
  writeInput(bytes: Uint8Array): Promise<void> {
    const copy = bytes.slice(); // the caller may reuse its buffer
    return new Promise((resolve) => {
      if (this.closed) { resolve(); return; }
      this.queued.push({ bytes: copy, done: resolve });
      this.pump();
    });
  }

  /** Ends the host input: the guest reads end-of-stream after the queued bytes. */
  endInput(): void {
    this.queued.push({ bytes: new Uint8Array(0), done: () => this.sink.inputEnd() });
    this.pump();
  }

  pause(): void { this.paused = true; }
  resume(): void { this.paused = false; this.pump(); }

  close(): void {
    this.closed = true;
    for (const q of this.queued.splice(0)) q.done();
    this.listeners.clear();
  }

  private pump(): void {
    while (!this.paused && !this.closed && this.queued.length > 0) {
      const q = this.queued.shift()!;
      if (q.bytes.length > 0) this.sink.input(q.bytes); // may pause us
      q.done();
    }
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const all = new Uint8Array(total);
  let at = 0;
  for (const p of parts) { all.set(p, at); at += p.length; }
  return all;
}

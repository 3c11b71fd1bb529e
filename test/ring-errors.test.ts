// Misuse through the public API: each is a VbusError with the expected errno code and a
// message naming the offending value, and it changes nothing: not a byte of the bus
// memory, not the host allocator, and another ring in the same memory keeps working.
import { describe, it, expect } from 'vitest';
import {
  BusMemory, RingProducer, RingConsumer, IovList, Notifier, Waiter, Status, VbusError, ERRNO,
  MAX_BUS_BYTES, createRing, createSignal, destroyRing, formatRing, ringMaxPayload, ringRegionBytes,
} from '../dist/src/internal.js';
import type { ErrnoCode } from '../dist/src/internal.js';
import { Prng } from './fixtures/prng.mjs';

/** Runs `fn`, which must throw a VbusError `code` whose message contains every `names`. */
function expectVbusError(fn: () => unknown, code: ErrnoCode, ...names: (string | number)[]): VbusError {
  let thrown: unknown;
  try { fn(); } catch (e) { thrown = e; }
  expect(thrown, 'expected a throw').toBeInstanceOf(VbusError);
  const err = thrown as VbusError;
  expect(err.code).toBe(code);
  expect(err.errno).toBe(ERRNO[code]);
  expect(err.message.startsWith(`${code}: `)).toBe(true);
  for (const n of names) expect(err.message).toContain(String(n));
  return err;
}

/** A bus with a witness ring that must keep working whatever fails next to it. */
function world(bytes = 65536) {
  const bus = BusMemory.create({ bytes });
  const witness = createRing(bus, 256);
  const wp = new RingProducer(bus, witness);
  const wc = new RingConsumer(bus, witness);
  let n = 0;
  const witnessWorks = () => {
    const rec = new Uint8Array(n % 200).fill(n & 0xff);
    expect(wp.push(rec, n)).toBe(0);
    const out = new Uint8Array(200);
    expect(wc.pop(out)).toBe(rec.length);
    expect(wc.tag).toBe(n);
    expect(out.subarray(0, rec.length)).toEqual(rec);
    n++;
  };
  /** Expects `fn` to fail with `code` naming `names`, leaving memory and allocator as they were. */
  const refused = (fn: () => unknown, code: ErrnoCode, ...names: (string | number)[]) => {
    const before = bus.u8.slice();
    const free = bus.allocator!.freeBytes();
    const regions = bus.allocator!.regionCount();
    const err = expectVbusError(fn, code, ...names);
    expect(bus.allocator!.freeBytes()).toBe(free);
    expect(bus.allocator!.regionCount()).toBe(regions);
    const after = bus.u8;
    for (let i = 0; i < before.length; i++) {
      if (before[i] !== after[i]) throw new Error(`byte ${i} of the bus memory changed by a refused call (${err.message})`);
    }
    witnessWorks();
    return err;
  };
  witnessWorks();
  return { bus, witness, refused, witnessWorks };
}

describe('ring capacity', () => {
  it.each([65, 96, 100, 1000, 3, 0, -64, 32, 2 ** 31, 1.5 * 1024, NaN])('capacity %s is refused with EINVAL', (capacity) => {
    const { bus, refused } = world();
    const err = refused(() => createRing(bus, capacity), 'EINVAL', `ring capacity ${capacity}`, 'power of two');
    expect(err.details.capacity).toBe(capacity);
    refused(() => new RingProducer(bus, { offset: 1024, capacity }), 'EINVAL', `ring capacity ${capacity}`);
    refused(() => new RingConsumer(bus, { offset: 1024, capacity }), 'EINVAL', `ring capacity ${capacity}`);
  });

  it('a ring that does not fit the bus memory: ENOSPC naming the size', () => {
    const { bus, refused } = world(65536);
    refused(() => createRing(bus, 65536), 'ENOSPC', ringRegionBytes(65536));
    refused(() => createRing(bus, 1 << 20), 'ENOSPC', ringRegionBytes(1 << 20));
  });
});

describe('records that can never fit', () => {
  it.each([64, 1024])('ring of %i: a payload above capacity - 8 is EMSGSIZE; the ring is unharmed', (capacity) => {
    const { bus, refused } = world();
    const desc = createRing(bus, capacity);
    const p = new RingProducer(bus, desc);
    const c = new RingConsumer(bus, desc);
    const max = ringMaxPayload(capacity);
    const src = bus.allocRegion(2 * capacity);
    for (const len of [max + 1, capacity, capacity * 2]) {
      refused(() => p.push(new Uint8Array(len)), 'EMSGSIZE', `${len} bytes`, `max payload ${max}`);
      refused(() => p.reserve(len), 'EMSGSIZE', `${len} bytes`);
      refused(() => p.pushFrom(src, len), 'EMSGSIZE', `${len} bytes`);
    }
    const iov = new IovList(bus, bus.allocRegion(IovList.bytes(2)), 2);
    iov.add(src, max + 1, 1);
    iov.add(src, 1, 2);
    refused(() => p.pushBatch(iov.offset, iov.length), 'EMSGSIZE', `${max + 1} bytes`);
    expect(p.faulted).toBe(false);
    // The ring still takes the largest record.
    expect(p.push(new Uint8Array(max).fill(3), 9)).toBe(0);
    const out = new Uint8Array(max);
    expect(c.pop(out)).toBe(max);
    expect(c.tag).toBe(9);
  });
});

describe('bad tags and buffers', () => {
  it.each([-1, 0x80000000, 2 ** 32, 2 ** 32 + 5, 1.5, NaN])('tag %s is refused with EINVAL', (tag) => {
    const { bus, refused } = world();
    const desc = createRing(bus, 256);
    const p = new RingProducer(bus, desc);
    const src = bus.allocRegion(64);
    refused(() => p.push(new Uint8Array(4), tag), 'EINVAL', `tag ${tag}`);
    refused(() => p.reserve(4, tag), 'EINVAL', `tag ${tag}`);
    refused(() => p.pushFrom(src, 4, tag), 'EINVAL', `tag ${tag}`);
    expect(new RingConsumer(bus, desc).used()).toBe(0);
  });

  it('a bad tag in a scatter list is EINVAL naming it', () => {
    const { bus, refused } = world();
    const p = new RingProducer(bus, createRing(bus, 256));
    const src = bus.allocRegion(64);
    const iov = new IovList(bus, bus.allocRegion(IovList.bytes(1)), 1);
    iov.add(src, 4, 0x80000001);
    refused(() => p.pushBatch(iov.offset, 1), 'EINVAL', `tag ${0x80000001}`);
  });

  it('sources and destinations outside the bus memory are EINVAL naming them', () => {
    const { bus, refused } = world();
    const desc = createRing(bus, 256);
    const p = new RingProducer(bus, desc);
    const c = new RingConsumer(bus, desc);
    const end = bus.byteLength;
    refused(() => p.pushFrom(end - 2, 4), 'EINVAL', `${end - 2}`);
    refused(() => p.pushFrom(-8, 4), 'EINVAL', '-8');
    const src = bus.allocRegion(64);
    const iov = new IovList(bus, bus.allocRegion(IovList.bytes(1)), 1);
    iov.add(end - 4, 8, 1);
    refused(() => p.pushBatch(iov.offset, 1), 'EINVAL', `${end - 4}`);
    refused(() => p.pushBatch(end - 16, 4), 'EINVAL', `${end - 16}`);
    refused(() => new IovList(bus, end - 16, 2), 'EINVAL', `${end - 16}`);
    expect(p.push(new Uint8Array(8), 1)).toBe(0); // so the consumer has something it must not take
    refused(() => c.popTo(end - 4, 8), 'EINVAL', `${end - 4}`);
    refused(() => c.popBatch(end - 4, 64), 'EINVAL', `${end - 4}`);
    expect(c.used()).toBe(16);
    expect(c.popTo(src, 64)).toBe(8);
  });
});

describe('regions and attach', () => {
  it('a ring region that does not fit the memory, or is misaligned, is EINVAL naming the offset', () => {
    const { bus, refused } = world();
    const end = bus.byteLength;
    refused(() => new RingProducer(bus, { offset: end - 128, capacity: 1024 }), 'EINVAL', `${end - 128}`);
    refused(() => new RingConsumer(bus, { offset: end, capacity: 64 }), 'EINVAL', `${end}`);
    refused(() => new RingConsumer(bus, { offset: -64, capacity: 64 }), 'EINVAL', '-64');
    refused(() => formatRing(bus, { offset: end - 64, capacity: 64 }), 'EINVAL', `${end - 64}`);
    const desc = createRing(bus, 256);
    refused(() => new RingConsumer(bus, { offset: desc.offset + 8, capacity: 256 }), 'EINVAL', `${desc.offset + 8}`);
    refused(() => new RingConsumer(bus, { offset: desc.offset, capacity: 512 }), 'EINVAL', `${desc.offset}`, '512');
  });

  it('attaching to garbage (bad magic) is EINVAL naming the offset, for rings and signals', () => {
    const { bus, refused } = world();
    const junk = bus.allocRegion(1024 + 192, 'junk');
    new Prng(42).fill(bus.u8, junk, 1024 + 192);
    refused(() => new RingProducer(bus, { offset: junk, capacity: 1024 }), 'EINVAL', `no ring at offset ${junk}`);
    refused(() => new RingConsumer(bus, { offset: junk, capacity: 1024 }), 'EINVAL', `no ring at offset ${junk}`);
    refused(() => new Notifier(bus, junk), 'EINVAL', `no signal at offset ${junk}`);
    refused(() => new Waiter(bus, junk), 'EINVAL', `no signal at offset ${junk}`);
    // A region of the other kind is not accepted either.
    const sig = createSignal(bus);
    const ring = createRing(bus, 64);
    refused(() => new RingConsumer(bus, { offset: sig, capacity: 64 }), 'EINVAL', `${sig}`);
    refused(() => new Waiter(bus, ring.offset), 'EINVAL', `${ring.offset}`);
    refused(() => new Notifier(bus, sig + 4), 'EINVAL', `${sig + 4}`);
    refused(() => new Notifier(bus, bus.byteLength), 'EINVAL', `${bus.byteLength}`);
    // A destroyed ring cannot be attached again.
    destroyRing(bus, ring);
    refused(() => new RingProducer(bus, ring), 'EINVAL', `no ring at offset ${ring.offset}`);
  });

  it('BusMemory.attach on a memory that is not a bus memory is EINVAL', () => {
    const plain = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    expectVbusError(() => BusMemory.attach(plain), 'EINVAL', 'not a bus memory', 'magic 0x0');
    new Uint32Array(plain.buffer).fill(0xdeadbeef, 0, 16);
    expectVbusError(() => BusMemory.attach(plain), 'EINVAL', 'magic 0xdeadbeef');
    const unshared = new WebAssembly.Memory({ initial: 1, maximum: 1 });
    expectVbusError(() => BusMemory.attach(unshared), 'EINVAL', 'shared');
    // Right magic, wrong version.
    const bus = BusMemory.create({ bytes: 65536 });
    const other = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const u32 = new Uint32Array(other.buffer);
    u32.set(bus.u32.subarray(0, 16));
    u32[1] = 99;
    expectVbusError(() => BusMemory.attach(other), 'EINVAL', 'version 99');
    // The real one attaches, and a guest may not place regions.
    const guest = BusMemory.attach(bus.memory, bus.module);
    expect(guest.allocator).toBeNull();
    expectVbusError(() => guest.allocRegion(64), 'EPERM');
  });

  it.each([MAX_BUS_BYTES + 1, 2 ** 40, 0, -1, NaN, Infinity])('bus memory of %s bytes is EINVAL naming the size', (bytes) => {
    expectVbusError(() => BusMemory.create({ bytes }), 'EINVAL', `bus memory size ${bytes}`);
  });

  it('freeing a region that was never placed is EINVAL and frees nothing', () => {
    const { bus, witness, refused } = world();
    refused(() => bus.freeRegion(witness.offset + 64), 'EINVAL', `offset ${witness.offset + 64}`);
  });
});

describe('hot paths never throw for full, empty or fault', () => {
  it('full and empty are statuses', () => {
    const { bus } = world();
    const desc = createRing(bus, 64);
    const p = new RingProducer(bus, desc);
    const c = new RingConsumer(bus, desc);
    expect(c.pop(new Uint8Array(8))).toBe(Status.EMPTY);
    expect(p.push(new Uint8Array(56))).toBe(0);
    expect(p.push(new Uint8Array(0))).toBe(Status.FULL);
    expect(p.reserve(0)).toBe(Status.FULL);
  });

  it('ends still attached to a destroyed ring get FAULT, not a throw', () => {
    const { bus } = world();
    const desc = createRing(bus, 256);
    const p = new RingProducer(bus, desc);
    const c = new RingConsumer(bus, desc);
    expect(p.push(new Uint8Array(8))).toBe(0);
    destroyRing(bus, desc);
    expect(p.push(new Uint8Array(8))).toBe(Status.FAULT);
    expect(p.faulted).toBe(true);
    expect(c.pop(new Uint8Array(8))).toBe(Status.FAULT);
    expect(c.faulted).toBe(true);
    expect(c.fault).toMatch(/magic/);
  });

  it.each(['signal', 'buffer'])('ends of a destroyed ring write nothing into a %s placed there next', (kind) => {
    const { bus } = world();
    const desc = createRing(bus, 256);
    const p = new RingProducer(bus, desc);
    const c = new RingConsumer(bus, desc);
    expect(p.push(new Uint8Array(8))).toBe(0);
    expect(p.reserve(16)).toBeGreaterThan(0); // left pending: a stale commit would publish it
    expect(c.peek()).toBe(8); // left peeked: a stale release would hand it back
    destroyRing(bus, desc);
    let region: number;
    if (kind === 'signal') {
      region = createSignal(bus);
    } else {
      region = bus.allocRegion(ringRegionBytes(256), 'buffer');
      new Prng(3).fill(bus.u8, region, ringRegionBytes(256));
    }
    expect(region).toBe(desc.offset); // the allocator reused the ring's place
    const before = bus.u8.slice(region, region + ringRegionBytes(256));
    const dst = bus.allocRegion(512);
    const iov = new IovList(bus, bus.allocRegion(IovList.bytes(1)), 1);
    iov.add(dst, 4, 1);
    // Commit and release first: the ends are not faulted yet, so these reach the core.
    expect(p.commit()).toBe(Status.FAULT);
    expect(c.release()).toBe(Status.FAULT);
    const ops: (() => number)[] = [
      () => p.push(new Uint8Array(4)), () => p.reserve(4), () => p.pushFrom(dst, 4), () => p.pushBatch(iov.offset, 1),
      () => c.pop(new Uint8Array(64)), () => c.peek(), () => c.popTo(dst, 64), () => c.popBatch(dst, 512), () => c.skip(),
    ];
    for (const op of ops) {
      p.clearFault(); // as if each op were the first after the destroy
      c.clearFault();
      expect(op()).toBe(Status.FAULT);
    }
    expect(p.push(new Uint8Array(4))).toBe(Status.FAULT);
    expect(c.peek()).toBe(Status.FAULT);
    expect(bus.u8.slice(region, region + ringRegionBytes(256))).toEqual(before);
    expect(p.fault).toMatch(/magic/);
    expect(c.fault).toMatch(/magic/);
    if (kind === 'signal') expect(new Waiter(bus, region).pending).toBe(false);
  });
});

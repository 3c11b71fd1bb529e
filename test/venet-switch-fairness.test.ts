// venet-switch fairness and the bounded pass: one port's TX ring full of frames (a guest
// that floods) does not make the switch serve that port to the end before it looks at the
// others. Guests here are worker-less (MockGuest): the test fills the rings in one turn of
// the event loop, before the switch sees any of it, so the order in which the switch took
// the frames is what the receiver finds in its RX ring. Every frame is checked byte for
// byte (lengths on both sides of the switch's word-copy limit, odd ones included).
import { afterEach, describe, expect, it } from 'vitest';
import { VbusHost, registerVenetClasses, type Bus } from '../dist/src/index.js';
import {
  PAIR_BUDGET, VENET_FUNC_QUERY, VENET_QUEUE_EVENT, VENET_QUEUE_RX, VENET_QUEUE_TX, VENET_VERSION, INFO_OFF_CLIENT_MAC,
  ETH_HEADER_BYTES, type ConsumerEnd, type ProducerEnd,
} from '../dist/src/internal.js';
import { MockGuest, Prng } from '../dist/src/testing/index.js';
import { counter, eventually } from './helpers/venet.js';

let host: VbusHost | undefined;
afterEach(async () => {
  if (host) { await host.connector.release(); host.release(); host = undefined; }
});

interface Port { mac: Uint8Array; tx: ProducerEnd; rx: ConsumerEnd }

async function port(h: VbusHost, bus: Bus, txBytes: number, rxBytes: number): Promise<Port> {
  const g = MockGuest.join(h, bus);
  const dev = await g.waitForDevice('virtual-ethernet');
  const c = await g.open(dev.id, VENET_VERSION);
  const info = await c.call(VENET_FUNC_QUERY);
  const mac = info.slice(INFO_OFF_CLIENT_MAC, INFO_OFF_CLIENT_MAC + 6);
  await c.rxQueue(VENET_QUEUE_EVENT, 4096);
  const rx = await c.rxQueue(VENET_QUEUE_RX, rxBytes);
  const tx = await c.txQueue(VENET_QUEUE_TX, txBytes);
  return { mac, tx, rx };
}

/** Frame `seq` of a sender: dst, src, ethertype, then a payload seeded by (sender, seq). */
function writeFrame(u8: Uint8Array, at: number, len: number, dst: Uint8Array, src: Uint8Array, seq: number): void {
  u8.set(dst, at);
  u8.set(src, at + 6);
  u8[at + 12] = 0x88; u8[at + 13] = 0xb5;
  new Prng(src[5]! * 1_000_003 + seq).fill(u8, at + ETH_HEADER_BYTES, len - ETH_HEADER_BYTES);
}

/** Reserves frames into `p`'s TX ring until it is full (or `max`); commits and kicks once. Returns their lengths. */
function fill(p: Port, dst: Uint8Array, max: number, lenOf: (seq: number) => number): number[] {
  const ring = p.tx.ring;
  const lens: number[] = [];
  while (lens.length < max) {
    const len = lenOf(lens.length);
    const at = ring.reserve(len, 0);
    if (at < 0) break;
    writeFrame(ring.bus.u8, at, len, dst, p.mac, lens.length);
    lens.push(len);
  }
  expect(ring.commit()).toBeGreaterThan(0);
  p.tx.notifyData();
  return lens;
}

const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

describe.each(['host', 'backend'] as const)('venet-switch fairness, switch in the %s thread', (placement) => {
  it('serves a second port within one round while the first port\'s ring is full; every frame arrives whole and in order', async () => {
    host = new VbusHost();
    registerVenetClasses(host);
    const sw = host.createDevice('sw');
    host.setType(sw, 'venet-switch');
    host.setPlacement(sw, placement);
    const buses = ['flood', 'quiet', 'sink'].map((n) => host!.createBus(n, { memoryBytes: 4 << 20 }));
    for (const b of buses) host.link(b, sw);
    // The flooding port is opened first: before the fix a pass drained it to the end first.
    const flood = await port(host, buses[0]!, 256 << 10, 64 << 10);
    const quiet = await port(host, buses[1]!, 64 << 10, 64 << 10);
    const sink = await port(host, buses[2]!, 64 << 10, 2 << 20);

    // Each port announces itself (a broadcast), so the switch knows where sink is.
    const bcast = new Uint8Array(6).fill(0xff);
    for (const p of [flood, quiet, sink]) fill(p, bcast, 1, () => 60);
    await eventually(() => counter(host!, 'sw', 'rx_frames') === 3);
    for (const p of [flood, quiet, sink]) { while (p.rx.ring.peek() >= 0) { /* discard the announcements */ } p.rx.ring.release(); }

    // One turn: the flood ring full (lengths 14..300, across the word-copy limit), one frame from quiet.
    const floodLens = fill(flood, sink.mac, Infinity, (seq) => 14 + ((seq * 37) % 287));
    expect(floodLens.length).toBeGreaterThan(4 * PAIR_BUDGET);
    const quietLens = fill(quiet, sink.mac, 1, () => 61);

    // The sink receives everything (its RX ring holds it all): check order and bytes.
    const got: Array<{ src: number; bytes: Uint8Array }> = [];
    const ring = sink.rx.ring;
    await eventually(() => {
      for (let len; (len = ring.peek()) >= 0;) got.push({ src: ring.bus.u8[ring.peekOffset + 11]!, bytes: ring.bus.u8.slice(ring.peekOffset, ring.peekOffset + len) });
      ring.release();
      sink.rx.notifySpace();
      return got.length === floodLens.length + 1;
    });
    const quietAt = got.findIndex((f) => f.src === quiet.mac[5]);
    expect(quietAt).toBeGreaterThanOrEqual(0);
    expect(quietAt).toBeLessThanOrEqual(PAIR_BUDGET); // at most one round's share of the flood came first

    const expected = (p: Port, lens: number[], seq: number): Uint8Array => {
      const f = new Uint8Array(lens[seq]!);
      writeFrame(f, 0, f.length, sink.mac, p.mac, seq);
      return f;
    };
    expect(same(got[quietAt]!.bytes, expected(quiet, quietLens, 0))).toBe(true);
    const fromFlood = got.filter((f) => f.src === flood.mac[5]);
    expect(fromFlood.length).toBe(floodLens.length);
    let bad = 0;
    fromFlood.forEach((f, seq) => { if (!same(f.bytes, expected(flood, floodLens, seq))) bad++; });
    expect(bad).toBe(0);
    expect(counter(host, 'sw', 'drops')).toBe(0);
  });
});

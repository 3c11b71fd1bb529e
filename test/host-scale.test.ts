/**
 * Scale: 1,000 buses with 4 devices each are created, linked, joined and torn down,
 * and everything is released (counts, not times; the per-bus times are measured by
 * bench/host-scale.ts).
 */
import { describe, expect, it } from 'vitest';
import { Bus, VbusHost } from '../dist/src/index.js';
import { RecordingModel, VENET_TAP_BUS_BYTES, venetTapFixture } from './fixtures/venet-tap-fixture.js';
import { adminView } from '../dist/src/index.js';

const BUSES = 1000;
const PER_BUS = 4;

describe('host scale', () => {
  it('creates and destroys 1,000 buses with 4 devices each and releases everything', () => {
    const host = new VbusHost();
    const models: RecordingModel[] = [];
    const cls = host.registerClass(venetTapFixture(models));
    const buses: Bus[] = [];
    let adds = 0;
    let removes = 0;
    for (let b = 0; b < BUSES; b++) {
      const bus = host.createBus(`bus-${b}`);
      bus.events.on('device-add', () => adds++);
      bus.events.on('device-remove', () => removes++);
      buses.push(bus);
      for (let d = 0; d < PER_BUS; d++) {
        const dev = host.createDevice(`dev-${b}-${d}`);
        host.setType(dev, 'venet-tap');
        expect(host.link(bus, dev)).toBe(d);
      }
      host.join(bus, { id: 10_000 + b });
    }
    expect(host.stats()).toEqual({ classes: 1, devices: BUSES * PER_BUS, buses: BUSES, members: BUSES, links: BUSES * PER_BUS, busMemoryBytes: BUSES * 65536, transports: { shared: BUSES, message: 0 } });
    expect(cls.deviceCount).toBe(BUSES * PER_BUS);
    expect(adds).toBe(BUSES * PER_BUS);
    // each bus memory is one page and holds exactly its four devices' regions
    for (const bus of buses) expect(bus.memory.allocator!.usedBytes()).toBe(PER_BUS * VENET_TAP_BUS_BYTES);
    expect(adminView(host).readdir('/sys/vbus/instances')).toHaveLength(BUSES);

    host.teardown();
    expect(removes).toBe(BUSES * PER_BUS);
    expect(host.stats()).toEqual({ classes: 1, devices: 0, buses: 0, members: 0, links: 0, busMemoryBytes: 0, transports: { shared: 0, message: 0 } });
    expect(cls.deviceCount).toBe(0);
    expect(buses.every((b) => b.memory.isReleased && !b.isAlive && b.memory.allocator!.usedBytes() === 0)).toBe(true);
    expect(models).toHaveLength(BUSES * PER_BUS);
    expect(models.every((m) => m.calls.at(-1)?.hook === 'release')).toBe(true);
    host.release();
    expect(host.stats().classes).toBe(0);
  });

  it('sizes a bus memory to what its devices need when asked', () => {
    const host = new VbusHost();
    host.registerClass(venetTapFixture());
    const need = host.memoryBytesFor(Array(12).fill('venet-tap'));
    expect(need).toBe(2 * 65536); // 64 + 12 * 8192 bytes, in whole pages
    const bus = host.createBus('big', { memoryBytes: need });
    for (let i = 0; i < 12; i++) {
      host.createDevice(`d${i}`);
      host.setType(`d${i}`, 'venet-tap');
      host.link(bus, `d${i}`);
    }
    expect(bus.deviceCount).toBe(12);
    expect(host.bus('big')!.memory.byteLength).toBe(need);
    host.release();
  });
});

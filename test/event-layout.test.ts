// DEVADD/DEVDROP/DEVEVENT are written by the host and read by the guest at the offsets
// assembly/layout/event.ts names: the host's record is checked byte by byte in the ring,
// and a record made here from the layout alone is understood by the guest connector.
import { afterEach, describe, expect, it } from 'vitest';
import {
  EV_DEVADD, EV_DEVDROP, EV_DEVEVENT, EV_ADD_OFF_DEVID, EV_ADD_OFF_IFACE_LEN, EV_ADD_OFF_IFACE, EV_ADD_BYTES,
  EV_DROP_OFF_DEVID, EV_DEV_OFF_DEVID, EV_DEV_OFF_HANDLE, EV_DEV_OFF_CODE, EV_DEV_OFF_ARG, EV_DEV_BYTES, EV_DROP_BYTES,
} from '../dist/assembly/layout/event.js';
import { BusEndpoint, BusMemory, GuestConnector, RingConsumer, RingProducer } from '../dist/src/internal.js';

const eps: BusEndpoint[] = [];
afterEach(async () => { for (const ep of eps.splice(0)) await ep.release(); });

function endpoint(): { mem: InstanceType<typeof BusMemory>; ep: BusEndpoint } {
  const mem = BusMemory.create({ bytes: 1 << 20 });
  const ep = new BusEndpoint(mem, 'events');
  eps.push(ep);
  return { mem, ep };
}

describe('event records at the offsets their layout names', () => {
  it('the host writes DEVADD and DEVDROP at EV_*_OFF_*', () => {
    const { mem, ep } = endpoint();
    const boot = ep.addMember(7);
    const name = 'virtual-ethernet';
    ep.addDevice(3, name, {});
    const ring = new RingConsumer(mem, boot.events);
    const rec = new Uint8Array(256);
    const len = ring.pop(rec);
    expect(ring.tag).toBe(EV_DEVADD);
    expect(len).toBe(EV_ADD_BYTES + name.length);
    const dv = new DataView(rec.buffer);
    expect(dv.getUint32(EV_ADD_OFF_DEVID, true)).toBe(3);
    expect(dv.getUint32(EV_ADD_OFF_IFACE_LEN, true)).toBe(name.length);
    expect(new TextDecoder().decode(rec.subarray(EV_ADD_OFF_IFACE, EV_ADD_OFF_IFACE + name.length))).toBe(name);

    ep.removeDevice(3);
    const dlen = ring.pop(rec);
    expect(ring.tag).toBe(EV_DEVDROP);
    expect(dlen).toBe(EV_DROP_BYTES);
    expect(dv.getUint32(EV_DROP_OFF_DEVID, true)).toBe(3);
  });

  it('the guest reads DEVADD, DEVEVENT and DEVDROP made from the layout alone', () => {
    const { mem, ep } = endpoint();
    const boot = ep.addMember(8);
    const prod = new RingProducer(mem, boot.events);
    const put = (type: number, bytes: number, fill: (dv: DataView, at: number) => void): void => {
      const at = prod.reserve(bytes, type);
      expect(at).toBeGreaterThan(0);
      fill(mem.view, at);
      prod.commit();
    };
    const name = 'vdisk';
    put(EV_DEVADD, EV_ADD_BYTES + name.length, (dv, at) => {
      dv.setUint32(at + EV_ADD_OFF_DEVID, 42, true);
      dv.setUint32(at + EV_ADD_OFF_IFACE_LEN, name.length, true);
      mem.u8.set(new TextEncoder().encode(name), at + EV_ADD_OFF_IFACE);
    });
    const g = new GuestConnector(boot);
    expect(g.devices()).toEqual([{ id: 42, type: name }]);

    const seen: unknown[] = [];
    g.onDeviceEvent((e) => seen.push(e));
    put(EV_DEVEVENT, EV_DEV_BYTES, (dv, at) => {
      dv.setUint32(at + EV_DEV_OFF_DEVID, 42, true);
      dv.setUint32(at + EV_DEV_OFF_HANDLE, 5, true);
      dv.setUint32(at + EV_DEV_OFF_CODE, 0x1234, true);
      dv.setUint32(at + EV_DEV_OFF_ARG, 0xdeadbeef, true);
    });
    put(EV_DEVDROP, EV_DROP_BYTES, (dv, at) => { dv.setUint32(at + EV_DROP_OFF_DEVID, 42, true); });
    expect(g.pollEvents()).toBe(2);
    expect(seen).toEqual([{ deviceId: 42, handle: 5, code: 0x1234, arg: 0xdeadbeef }]);
    expect(g.devices()).toEqual([]);
  });

  it('a DEVADD whose name length runs past its record is dropped, not read past', () => {
    const { mem, ep } = endpoint();
    const boot = ep.addMember(9);
    const prod = new RingProducer(mem, boot.events);
    const at = prod.reserve(EV_ADD_BYTES + 2, EV_DEVADD);
    mem.view.setUint32(at + EV_ADD_OFF_DEVID, 1, true);
    mem.view.setUint32(at + EV_ADD_OFF_IFACE_LEN, 60, true); // claims 60 bytes, carries 2
    prod.commit();
    const g = new GuestConnector(boot);
    expect(g.devices()).toEqual([]);
  });
});

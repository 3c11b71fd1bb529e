// Ring contents across a save: frames a guest had not yet taken from its RX ring when
// the bus was saved are in the venet device's state, and arrive after the restore, in
// order, before any new frame, none lost or twice; console input the guest had not read
// from its ring is read after the restore, once. (The safe point waits for every
// guest's own requests, so the guest-to-device rings are empty by then.)
import { describe, expect, it } from 'vitest';
import { decodeSnapshot, restoreBuses, saveBuses } from '../dist/src/internal.js';
import { drive } from './helpers/scripted.js';
import { useHosts } from './helpers/state-host.js';

const makeHost = useHosts();
const GUEST = new URL('./fixtures/guest-ring-carry.mjs', import.meta.url);

async function until(pred: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) { if (Date.now() > end) throw new Error('condition not met in time'); await new Promise((r) => setTimeout(r, 10)); }
}

describe('ring contents in a saved bus', () => {
  it('frames left in a guest RX ring and console input left in its ring at the save arrive after the restore, before new ones, none lost or twice', async () => {
    const a = makeHost();
    const bus = a.createBus('lan0', { memoryBytes: 1 << 20 });
    const lo = a.createDevice('lo');
    a.setType(lo, 'venet-loopback');
    const dev = a.link(bus, lo);
    const cd = a.createDevice('con');
    a.setType(cd, 'vconsole');
    const con = a.link(bus, cd);
    const g = drive(a.spawnGuest(bus, GUEST, { data: { dev, con } }));
    await g.waitEvent((e) => e.event === 'ready');

    await (cd.model as any).hostWrite('hello '); // taken by the device: in the guest's input ring, unread
    await g.cmd('send', { n: 20 });
    await until(async () => { const r = await g.cmd('rings'); return r.tx === 0 && r.rx > 0; }); // all back in its RX ring, untaken
    const bytes = await saveBuses(a, ['lan0']);

    // The device state carries the 20 frames with the port they were waiting for.
    const saved = decodeSnapshot(bytes).devices.find((d) => d.name === 'lo')!.state;
    expect(saved.version).toBe(2);
    const port = (saved.data as any).ports[0];
    expect(port.rx[0].map((f: { bytes: Uint8Array }) => new DataView(f.bytes.buffer, f.bytes.byteOffset).getUint32(14, true)))
      .toEqual(Array.from({ length: 20 }, (_, i) => i));

    const b = makeHost();
    const { guests } = restoreBuses(b, bytes);
    const r = drive([...guests.values()][0]!);
    await r.waitEvent((e) => e.event === 'ready');
    await until(async () => (await r.cmd('got')).got.length >= 20);
    await r.cmd('send', { n: 5 }); // new frames come after the carried ones
    await until(async () => (await r.cmd('got')).got.length >= 25);
    const end = await r.cmd('got');
    expect(end.got).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(end.negotiations).toBe(0);
    expect(b.device('lo')!.attr('drops')).toBe('0');
    // The console input that waited in the ring is read once, then what comes after.
    expect((await r.cmd('read')).text).toBe('hello ');
    await (b.device('con')!.model as any).hostWrite('world');
    expect((await r.cmd('read')).text).toBe('world');
    expect(b.device('con')!.attr('rx_bytes')).toBe('11'); // each byte counted once across the save
  });
});

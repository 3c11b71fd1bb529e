// Ring contents across a save: the save carries the bus memory (its placed regions) and
// the connector's tables, and the restored guest takes its connections back. Frames a
// guest had not yet taken from its RX ring when the bus was saved are still in that
// ring after the restore (the device state carries none), and arrive in order, before
// any new frame, none lost or twice; console input the guest had not read from its ring
// is read after the restore, once. Opening its devices again costs the resumed guest no
// call: same handles, same rings. (The safe point waits for every guest's own requests,
// so the guest-to-device rings are empty by then.)
import { describe, expect, it } from 'vitest';
import { decodeSnapshot, encodeSnapshot, restoreBuses, saveBuses, type BusSnapshot } from '../dist/src/internal.js';
import { drive } from './helpers/scripted.js';
import { useHosts } from './helpers/state-host.js';

const makeHost = useHosts();
const GUEST = new URL('./fixtures/guest-ring-carry.mjs', import.meta.url);
const MQ_GUEST = new URL('./fixtures/guest-mq-resume.mjs', import.meta.url);

async function until(pred: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) { if (Date.now() > end) throw new Error('condition not met in time'); await new Promise((r) => setTimeout(r, 10)); }
}

/** Bus lan0 with a venet-loopback (and with `console` a vconsole), and the ring-carry guest on it, ready. */
async function loopbackGuest(a: ReturnType<typeof makeHost>, opts: { console?: boolean; transport?: 'shared' | 'message' } = {}) {
  const bus = a.createBus('lan0', { memoryBytes: 1 << 20, ...(opts.transport ? { transport: opts.transport } : {}) });
  const lo = a.createDevice('lo');
  a.setType(lo, 'venet-loopback');
  const dev = a.link(bus, lo);
  let cd, con;
  if (opts.console) {
    cd = a.createDevice('con');
    a.setType(cd, 'vconsole');
    con = a.link(bus, cd);
  }
  const g = drive(a.spawnGuest(bus, GUEST, { data: con === undefined ? { dev } : { dev, con } }));
  await g.waitEvent((e) => e.event === 'ready');
  return { bus, cd: cd!, con: con!, g };
}

/** Bus lan0 with a 2-pair venet-loopback and a 2-pair vdisk (placed in `diskPlacement`), and the multiqueue guest on it, ready. */
async function multiqueueGuest(a: ReturnType<typeof makeHost>, diskPlacement: 'host' | 'backend' = 'host') {
  const bus = a.createBus('lan0', { memoryBytes: 8 << 20 });
  const lo = a.createDevice('lo');
  a.setType(lo, 'venet-loopback');
  lo.setAttr('queues', '2');
  const disk = a.createDevice('disk');
  a.setType(disk, 'vdisk');
  disk.setAttr('capacity', String(1 << 20));
  disk.setAttr('queues', '2');
  if (diskPlacement !== 'host') a.setPlacement(disk, diskPlacement);
  const ids = { net: a.link(bus, lo), disk: a.link(bus, disk) };
  const g = drive(a.spawnGuest(bus, MQ_GUEST, { data: ids }));
  await g.waitEvent((e) => e.event === 'ready');
  return { ids, g };
}

/** Restores `bytes` into `host` and drives its one guest, once that is ready. */
async function resumeOne(host: ReturnType<typeof makeHost>, bytes: Uint8Array) {
  const { guests } = restoreBuses(host, bytes);
  const r = drive([...guests.values()][0]!);
  await r.waitEvent((e) => e.event === 'ready');
  return { r, worker: [...guests.values()][0]! };
}

describe('ring contents in a saved bus', () => {
  // On the message transport the host keeps its own copy of the bus memory, in step at
  // the safe point (every guest's writes acknowledged), and the save reads that copy.
  it.each(['shared', 'message'] as const)('frames left in a guest RX ring and console input left in its ring at the save arrive after the restore, before new ones, none lost or twice (%s transport)', async (transport) => {
    const a = makeHost();
    const { bus, cd, g } = await loopbackGuest(a, { console: true, transport });
    expect(bus.transport).toBe(transport);
    const before = await g.cmd('opened');
    expect(before.openCalls).toBeGreaterThan(0); // a fresh run opens: DEVOPEN, QUERY, DEVSHM ...

    await (cd.model as any).hostWrite('hello '); // taken by the device: in the guest's input ring, unread
    await g.cmd('send', { n: 20 });
    await until(async () => { const r = await g.cmd('rings'); return r.tx === 0 && r.rx > 0; }); // all back in its RX ring, untaken
    const bytes = await saveBuses(a, ['lan0']);

    // The device state carries no frames: they are in the RX ring, in the bus image.
    const snap = decodeSnapshot(bytes);
    const saved = snap.devices.find((d) => d.name === 'lo')!.state;
    expect((saved.data as any).ports[0].rx).toBeUndefined();
    const image = snap.buses[0]!.image!;
    expect(image.regions.some((r) => r.offset === before.regions.rx)).toBe(true);
    expect(image.data.length).toBeLessThan(1 << 20); // the placed regions, not the whole memory

    const b = makeHost();
    const { r, worker } = await resumeOne(b, bytes);
    await worker.joined; // the program said it ran on after joinBus() (what a migration's target waits for)
    const after = await r.cmd('opened');
    expect(after.openCalls).toBe(0); // no DEVOPEN, QUERY or DEVSHM: the connections were taken back
    expect(after.handles).toEqual(before.handles);
    expect(after.regions).toEqual(before.regions);
    await until(async () => (await r.cmd('got')).got.length >= 20);
    await r.cmd('send', { n: 5 }); // new frames come after the ones the ring kept
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

  it('refuses a bus image or connector table that does not hold together, naming it, and builds nothing', async () => {
    const a = makeHost();
    const { g } = await loopbackGuest(a);
    await g.cmd('send', { n: 3 });
    const bytes = await saveBuses(a, ['lan0']);
    const snap = decodeSnapshot(bytes);
    const b = makeHost();
    const refused = (edit: (s: BusSnapshot) => void, code: string, message: RegExp): void => {
      const s = decodeSnapshot(bytes);
      edit(s);
      let err: { code?: string; message?: string } | undefined;
      try { restoreBuses(b, encodeSnapshot(s), 'bad.vbsnap'); } catch (e) { err = e as typeof err; }
      expect(err?.code).toBe(code);
      expect(err?.message).toMatch(message);
      expect(b.stats()).toMatchObject({ buses: 0, devices: 0, links: 0, members: 0 }); // nothing left of the attempt
    };
    const image = (s: BusSnapshot) => s.buses[0]!.image!;
    const member = (s: BusSnapshot) => s.buses[0]!.connector!.members[0]!;
    expect(image(snap).regions.length).toBeGreaterThan(4);
    expect(member(snap).conns.length).toBe(1);
    refused((s) => { image(s).regions[1]!.offset = image(s).regions[0]!.offset; }, 'EINVAL', /bad\.vbsnap: bus lan0: bus memory image: region at \d+ overlaps/);
    refused((s) => { image(s).regions[0]!.offset += 8; }, 'EINVAL', /bus memory image: region at \d+ \(\d+ bytes\) is not 64-aligned/);
    refused((s) => { image(s).regions.push({ offset: (1 << 20) - 64, bytes: 128 }); }, 'EINVAL', /ends past the bus memory of 1048576 bytes/);
    refused((s) => { image(s).spans.push({ offset: (1 << 20) - 64, bytes: 8 }); image(s).data = new Uint8Array(image(s).data.length + 8); }, 'EINVAL', /span at 1048512 \(8 bytes\) lies outside every region/);
    refused((s) => { image(s).data = image(s).data.subarray(1); }, 'EINVAL', /bytes of data for spans of/);
    refused((s) => { image(s).regions.push({ offset: (1 << 20) - 128, bytes: 64 }); }, 'EINVAL', /the image places a region at 1048448 that no table names/);
    refused((s) => { member(s).slot = member(s).eventSignal; }, 'EINVAL', /connector tables: member \d+'s call slot at \d+ is not a region of at least/);
    refused((s) => { member(s).conns[0]!.handle = 9999; }, 'EINVAL', /handle 9999: out of range or twice/);
    refused((s) => { member(s).conns[0]!.deviceId = 7; }, 'EINVAL', /device 7 is not linked to this bus in the host thread/);
    refused((s) => { const r = member(s).conns[0]!.regions; r[1]!.spaceSignal = r[0]!.spaceSignal; }, 'EINVAL', /space signal at \d+ is used twice/);
    refused((s) => { s.version = 1; }, 'ENOTSUP', /bus snapshot version 1 cannot be read \(this runtime reads version 2\)/);
    // The file as it was restores.
    const { r } = await resumeOne(b, bytes);
    expect((await r.cmd('opened')).openCalls).toBe(0);
  });

  it('a guest with two queue pairs on a venet and a vdisk takes both back: the pairs, the features, what the rings and the disk held', async () => {
    const a = makeHost();
    const { g } = await multiqueueGuest(a);
    const before = await g.cmd('opened');
    expect(before).toMatchObject({ netQueues: 2, diskQueues: 2 });
    await g.cmd('write', { block: 3, fill: 0xa5 });
    await g.cmd('send', { n: 7 });
    await until(async () => { const r = await g.cmd('rings'); return r.tx === 0 && r.rx > 0; });
    const bytes = await saveBuses(a, ['lan0']);

    const { r } = await resumeOne(makeHost(), bytes);
    const after = await r.cmd('opened');
    expect(after.openCalls).toBe(0); // no DEVOPEN, QUERY, NEGOTIATE, INFO or DEVSHM
    expect(after).toMatchObject({ netQueues: 2, netFeatures: before.netFeatures, diskQueues: 2, handles: before.handles, others: before.others });
    expect(await r.cmd('read', { block: 3 })).toMatchObject({ first: 0xa5, last: 0xa5 }); // the disk answers on the kept rings
    await r.cmd('take');
    await until(async () => (await r.cmd('got')).got.length >= 7);
    await r.cmd('send', { n: 2 });
    await until(async () => (await r.cmd('got')).got.length >= 9);
    expect((await r.cmd('got')).got).toEqual(Array.from({ length: 9 }, (_, i) => i));
  });

  it('a restored bus saved again restores again: the guest takes the same connections back a second time', async () => {
    const a = makeHost();
    const { g } = await loopbackGuest(a);
    const first = await g.cmd('opened');
    await g.cmd('send', { n: 4 });
    await until(async () => { const r = await g.cmd('rings'); return r.tx === 0 && r.rx > 0; });
    let bytes = await saveBuses(a, ['lan0']);
    let sent = 4;
    for (const round of [1, 2]) {
      const h = makeHost();
      const { r } = await resumeOne(h, bytes);
      const opened = await r.cmd('opened');
      expect(opened.openCalls, `round ${round}`).toBe(0);
      expect(opened.handles).toEqual(first.handles);
      expect(opened.regions).toEqual(first.regions);
      await r.cmd('send', { n: 3 });
      sent += 3;
      await until(async () => (await r.cmd('got')).got.length >= sent);
      expect((await r.cmd('got')).got).toEqual(Array.from({ length: sent }, (_, i) => i));
      bytes = await saveBuses(h, ['lan0']);
    }
  });

  it('a connection to a device in a backend worker is not carried: the resumed guest opens that one again, and takes the others back', async () => {
    const a = makeHost();
    const { ids, g } = await multiqueueGuest(a, 'backend');
    const before = await g.cmd('opened');
    await g.cmd('write', { block: 5, fill: 0x3c });
    await g.cmd('send', { n: 3 });
    await until(async () => { const r = await g.cmd('rings'); return r.tx === 0 && r.rx > 0; });
    const bytes = await saveBuses(a, ['lan0']);
    const member = decodeSnapshot(bytes).buses[0]!.connector!.members[0]!;
    expect(member.conns.map((c) => c.deviceId)).toEqual([ids.net]); // the backend vdisk's connection is left out

    const { r } = await resumeOne(makeHost(), bytes);
    const after = await r.cmd('opened');
    expect(after.openCalls).toBeGreaterThan(0); // the vdisk was opened anew (DEVOPEN, INFO, NEGOTIATE, DEVSHM)
    expect(after).toMatchObject({ netQueues: 2, diskQueues: 2, handles: before.handles, others: before.others }); // the venet came back as it was
    expect(await r.cmd('read', { block: 5 })).toMatchObject({ first: 0x3c, last: 0x3c }); // the disk's contents travel in its state
    await r.cmd('take');
    await until(async () => (await r.cmd('got')).got.length >= 3);
    expect((await r.cmd('got')).got).toEqual([0, 1, 2]);
  });

  it('a ring the guest scribbled on neither blocks the save nor the restore: that connection is opened anew, or restored as needing a reset', async () => {
    const a = makeHost();
    const { bus, con, g } = await loopbackGuest(a, { console: true });
    const before = await g.cmd('opened');
    await g.cmd('send', { n: 3 });
    await until(async () => { const r = await g.cmd('rings'); return r.tx === 0 && r.rx > 0; });
    const clean = await saveBuses(a, ['lan0'], { stopGuests: false });
    bus.memory.u32[before.regions.rx >> 2] = 0xdeadbeef; // the RX ring's magic, as a hostile guest could write it
    const bytes = await saveBuses(a, ['lan0']);
    // The save left the faulted venet connection out: the console's is carried.
    const conns = decodeSnapshot(bytes).buses[0]!.connector!.members[0]!.conns;
    expect(conns.map((c) => c.deviceId)).toEqual([con]);
    const { r } = await resumeOne(makeHost(), bytes);
    const after = await r.cmd('opened');
    expect(after.openCalls).toBeGreaterThan(0); // the venet was opened anew (new rings)
    expect(after.handles.con).toBe(before.handles.con); // the console came back as it was
    await r.cmd('send', { n: 2 });
    await until(async () => (await r.cmd('got')).got.length >= 2);
    expect((await r.cmd('got')).got).toEqual([3, 4]); // the frames of the scribbled ring went with it

    // The same damage in a file saved clean (written after the save's check): restored, NEEDS_RESET.
    const snap = decodeSnapshot(clean);
    const img = snap.buses[0]!.image!;
    let at = 0;
    for (const sp of img.spans) { if (sp.offset === before.regions.rx) break; at += sp.bytes; }
    new DataView(img.data.buffer, img.data.byteOffset).setUint32(at, 0xdeadbeef, true);
    const c = makeHost();
    restoreBuses(c, encodeSnapshot(snap));
    expect(c.device('lo')!.status).toBe('needs-reset');
    expect(c.device('lo')!.faults()[0]).toMatchObject({ name: 'ring-header', queue: 1 });
    expect(c.device('con')!.status).toBe('ok');
  });
});

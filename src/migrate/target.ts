/**
 * Live migration, the target's side: `listenForMigration(host, { path })` (or
 * `{ port }`) accepts buses that `migrate()` (source.ts) sends. One migration at a time;
 * another source that connects meanwhile is refused (EBUSY). For each stream:
 *  - HELLO is checked before any page is taken: the stream version (ENOTSUP naming
 *    both), that no bus, device or member of those names exists here (EEXIST), that every
 *    class is registered (ENOENT) and loads the version its state was saved in (ENOTSUP),
 *    and that the images fit `maxImageBytes`. A refusal is answered REFUSE and changes
 *    nothing. Once accepted, the buses and the typed devices are made (unlinked, not yet
 *    loaded), so that at the stop only the states are loaded and the devices linked.
 *  - Once accepted, a worker is started for each guest HELLO names (ParkedWorker): it
 *    loads its module and attaches to its bus while the pages come, and waits for its
 *    boot.
 *  - PAGES land in zeroed shared buffers, one per image, each checked to lie inside its
 *    image; at STATE each is handed over to the device that loads it (src/state/handover.ts).
 *  - STATE (the snapshot, CRC-checked) must name what HELLO named; its images are put
 *    back, the devices loaded and linked (src/snapshot/restore.ts). READY, or FAILED
 *    with nothing left behind.
 *  - GO boots the guests in their parked workers with their saved states; RESUMED tells
 *    the source once each has joined and run to its first wait (it serves again; at most
 *    the `joinWaitMs` GO names, and JOIN_WAIT_MS). A stream that ends or stalls (`timeoutMs`) before GO undoes what was
 *    built and ends the parked workers.
 * The socket trusts whoever can connect: a Unix socket is made owner-only (0600); a TCP
 * port is for a network where every peer may move buses into this runtime.
 */
import { chmodSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { VbusError, vbusError } from '../errors.js';
import type { Bus } from '../host/bus.js';
import type { VbusHost } from '../host/host.js';
import { ParkedWorker, type GuestWorker } from '../connector/spawn-guest.js';
import type { StateValue } from '../state/codec.js';
import { decodeSnapshot, SNAPSHOT_VERSION, type BusSnapshot } from '../snapshot/format.js';
import { handOver } from '../state/handover.js';
import { warmRestorePath } from './warm.js';
import { buildBuses, buildSkeleton, startGuests, type BuiltBuses } from '../snapshot/restore.js';
import { describeAddress, FrameChannel, readJson, type Frame, type MigrationAddress } from './channel.js';
import { FRAME, MIGRATE_MAGIC, MIGRATE_VERSION, PAGES_HEADER_BYTES, frame, jsonBody, refusalOf, type Hello } from './wire.js';

export interface ListenOptions {
  /** Longest silence of a source before the migration is given up and undone (default 30 s). */
  timeoutMs?: number;
  /** Largest total of images one migration may bring (default 1 GiB). */
  maxImageBytes?: number;
  /**
   * Called with each class a migration names that is not registered here, before the
   * checks (a runtime registers its built-in classes on demand this way); it may
   * register it or leave it missing (then the migration is refused, ENOENT).
   */
  onMissingClass?(className: string): void;
  /** Called once a migration's guests were started here. */
  onMigrated?(m: MigratedIn): void;
  /** Called when a migration was refused or failed here (it changed nothing). */
  onFailed?(e: VbusError): void;
}

/** Buses that arrived. */
export interface MigratedIn {
  buses: Bus[];
  /** The guests started again, by member id. */
  guests: Map<number, GuestWorker>;
  from: string;
}

export interface MigrationListener {
  /** Where it listens (the port chosen when 0 was asked for). */
  readonly address: MigrationAddress;
  /** Stops listening; a migration under way ends as if its stream dropped. */
  close(): Promise<void>;
}

/**
 * Longest wait for the parked workers to load, and after GO for the guests to join (a
 * guest that never calls joinBus() must not hold an answer past the source's deadline,
 * 10 s by default).
 */
export const JOIN_WAIT_MS = 5000;

/** Listens for migrations into `host` at `where` (see the module comment). */
export function listenForMigration(host: VbusHost, where: MigrationAddress, opts: ListenOptions = {}): Promise<MigrationListener> {
  let busy = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const ch = new FrameChannel(socket, 'source');
    if (busy) {
      void refuse(ch, vbusError('EBUSY', 'this runtime is taking another migration; try again when it is done'));
      return;
    }
    busy = true;
    void serveMigration(host, ch, opts).finally(() => { busy = false; });
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(vbusError(e.code === 'EADDRINUSE' ? 'EADDRINUSE' : 'EIO', `cannot listen for migrations at ${describeAddress(where)}: ${e.message}`, { where: describeAddress(where) })));
    const ready = (): void => {
      let address: MigrationAddress = where;
      if ('path' in where) chmodSync(where.path, 0o600);
      else {
        const a = server.address();
        if (a && typeof a === 'object') address = { host: where.host ?? '127.0.0.1', port: a.port };
      }
      resolve({
        address,
        close: () => new Promise<void>((done) => { for (const s of sockets) s.destroy(); server.close(() => done()); }),
      });
    };
    if ('path' in where) server.listen(where.path, ready);
    else server.listen(where.port, where.host ?? '127.0.0.1', ready);
  });
}

async function refuse(ch: FrameChannel, e: VbusError): Promise<void> {
  await ch.send(frame(FRAME.REFUSE, jsonBody(refusalOf(e))), 5000).catch(() => undefined);
  ch.socket.end();
}

async function serveMigration(host: VbusHost, ch: FrameChannel, opts: ListenOptions): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const from = ch.socket.remoteAddress ? `${ch.socket.remoteAddress}:${ch.socket.remotePort}` : 'a local source';
  let built = null as BuiltBuses | null; // buses and devices made here, cleared once the guests run
  const parked = new Map<number, ParkedWorker>(); // workers started ahead; those not booted end
  let stage = 'HELLO';
  try {
    const first = await expectFrame(ch, FRAME.HELLO, timeoutMs, 'HELLO');
    let hello: Hello;
    try {
      hello = checkHello(readJson<unknown>(first, 'HELLO', from), opts.maxImageBytes ?? 1 << 30);
      for (const d of hello.devices) if (!host.deviceClass(d.cls)) opts.onMissingClass?.(d.cls);
      built = buildSkeleton(host, helloAsSnapshot(hello), `migration from ${from}`); // checks, then buses and typed devices
    } catch (e) {
      if (e instanceof VbusError) { opts.onFailed?.(e); await refuse(ch, e); return; }
      throw e;
    }
    // Shared buffers of the images' sizes: handed over to the devices that load them (no copy at the stop).
    const images = hello.images.map((i) => new Uint8Array(new SharedArrayBuffer(i.bytes)));
    // A source that names its guests waits for PARKED before it stops (an older one does not).
    const parks = hello.guests !== undefined;
    await ch.send(frame(FRAME.ACCEPT, jsonBody({ version: MIGRATE_VERSION, parks })), timeoutMs);
    for (const g of hello.guests ?? []) {
      const bus = built?.buses.find((x) => x.name === g.bus && x.memory.transport === 'shared'); // a private memory cannot be posted
      try { parked.set(g.id, new ParkedWorker(new URL(g.url), `guest-${g.id}`, bus ? { memory: bus.memory.memory, module: bus.memory.module } : undefined)); } catch { /* started at GO instead, which reports why */ }
    }
    // While the pages come: run the decoders and state readers once, so that at the stop they are not cold.
    const warm = built;
    setImmediate(() => { if (warm) warmRestorePath(warm.devices); });
    if (parks) void allParked([...parked.values()], JOIN_WAIT_MS).then(() => ch.send(frame(FRAME.PARKED, jsonBody({})), timeoutMs)).catch(() => undefined);

    stage = 'pages';
    let f: Frame;
    for (;;) {
      f = await ch.next(timeoutMs, 'PAGES or STATE');
      if (f.type !== FRAME.PAGES) break;
      putPages(f, images);
    }
    if (f.type !== FRAME.STATE) throw vbusError('EPROTO', `migration source sent frame type ${f.type} where PAGES or STATE belong`);
    stage = 'build';
    try {
      const snap = decodeSnapshot(f.body, `migration from ${from}`);
      matchHello(snap, hello);
      hello.images.forEach((img, i) => {
        const d = snap.devices.find((x) => x.name === img.device)!;
        (d.state.data as Record<string, StateValue>)[img.field] = images[i]!;
        handOver(images[i]!);
      });
      built = buildBuses(host, snap, `migration from ${from}`, built ?? undefined);
      await ch.send(frame(FRAME.READY, jsonBody({})), timeoutMs);
      stage = 'GO';
      const go = await expectFrame(ch, FRAME.GO, timeoutMs, 'GO');
      const guests = startGuests(host, snap, parked);
      built = null; // the buses are running here now
      for (const p of parked.values()) void p.discard(); // any not booted (another module)
      const notJoined = await joinedOrLate([...guests.values()], joinWait(go, from));
      await ch.send(frame(FRAME.RESUMED, jsonBody({ notJoined })), timeoutMs).catch(() => undefined);
      ch.socket.end();
      opts.onMigrated?.({ buses: snap.buses.map((b) => host.bus(b.name)!), guests, from });
    } catch (e) {
      if (stage === 'build' && e instanceof VbusError) {
        await ch.send(frame(FRAME.FAILED, jsonBody(refusalOf(e))), timeoutMs).catch(() => undefined);
      }
      throw e;
    }
  } catch (e) {
    built?.undo(); // nothing of a failed migration stays
    for (const p of parked.values()) void p.discard();
    const err = e instanceof VbusError ? e : vbusError('EIO', `migration from ${from} failed at ${stage}: ${(e as Error).message}`, { cause: e });
    opts.onFailed?.(err);
    ch.close();
  }
}

/** GO's `joinWaitMs` (the source's bound for the join wait), read leniently, at most JOIN_WAIT_MS. */
function joinWait(go: Frame, from: string): number {
  try {
    const v = readJson<{ joinWaitMs?: unknown }>(go, 'GO', from).joinWaitMs;
    return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.min(v, JOIN_WAIT_MS) : JOIN_WAIT_MS;
  } catch {
    return JOIN_WAIT_MS;
  }
}

/** Waits for `p`, at most `ms` (its timer cleared either way). */
async function atMost(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([new Promise<void>((r) => { timer = setTimeout(r, ms); }), p]);
  clearTimeout(timer);
}

/** Waits until every parked worker waits for its boot (or ended), at most `ms`. */
function allParked(workers: ParkedWorker[], ms: number): Promise<void> {
  return atMost(Promise.all(workers.map((w) => w.waiting)), ms);
}

/** Waits until every guest joined, ended or `ms` passed; returns the member ids of those that did not join. */
async function joinedOrLate(guests: GuestWorker[], ms: number): Promise<number[]> {
  const late = new Set(guests.map((g) => g.memberId));
  await atMost(Promise.all(guests.map((g) => Promise.race([g.joined.then(() => { late.delete(g.memberId); }), g.exited]))), ms);
  return [...late];
}

async function expectFrame(ch: FrameChannel, type: number, timeoutMs: number, what: string): Promise<Frame> {
  const f = await ch.next(timeoutMs, what);
  if (f.type !== type) throw vbusError('EPROTO', `migration source sent frame type ${f.type} where ${what} belongs`);
  return f;
}

/** A HELLO from the wire, every field checked (it comes from another process). */
function checkHello(v: unknown, maxImageBytes: number): Hello {
  const bad = (why: string): never => { throw vbusError('EPROTO', `malformed migration HELLO: ${why}`); };
  if (typeof v !== 'object' || v === null) bad('not an object');
  const h = v as Record<string, unknown>;
  if (h['magic'] !== MIGRATE_MAGIC) bad(`magic ${JSON.stringify(h['magic'])} is not ${MIGRATE_MAGIC}`);
  if (h['version'] !== MIGRATE_VERSION) {
    throw vbusError('ENOTSUP', `the source speaks migration stream version ${String(h['version'])}; this runtime speaks version ${MIGRATE_VERSION}`, { version: h['version'], supported: MIGRATE_VERSION });
  }
  const arr = (k: string): unknown[] => (Array.isArray(h[k]) ? (h[k] as unknown[]) : bad(`${k} is not a list`));
  const str = (o: unknown, k: string): string => (typeof (o as Record<string, unknown>)?.[k] === 'string' ? (o as Record<string, string>)[k]! : bad(`${k} is not text`));
  const int = (o: unknown, k: string, min: number): number => {
    const n = (o as Record<string, unknown>)?.[k];
    return Number.isSafeInteger(n) && (n as number) >= min ? (n as number) : bad(`${k} is not an integer >= ${min}`);
  };
  const hello: Hello = {
    magic: MIGRATE_MAGIC, version: MIGRATE_VERSION,
    buses: arr('buses').map((b) => ({ name: str(b, 'name'), memoryBytes: int(b, 'memoryBytes', 1) })),
    devices: arr('devices').map((d) => ({ name: str(d, 'name'), cls: str(d, 'cls'), version: int(d, 'version', 1) })),
    members: arr('members').map((m) => (Number.isSafeInteger(m) && (m as number) > 0 ? (m as number) : bad('a member id is not a positive integer'))),
    images: arr('images').map((i) => ({ device: str(i, 'device'), field: str(i, 'field'), bytes: int(i, 'bytes', 0) })),
  };
  if (h['guests'] !== undefined) {
    hello.guests = arr('guests').map((g) => {
      const id = int(g, 'id', 1);
      const url = str(g, 'url');
      if (!hello.members.includes(id)) bad(`guest ${id} is not among the members`);
      if (!URL.canParse(url)) bad(`guest ${id}'s module ${JSON.stringify(url)} is not a URL`);
      const bus = (g as Record<string, unknown>)['bus'];
      if (bus !== undefined && (typeof bus !== 'string' || !hello.buses.some((b) => b.name === bus))) bad(`guest ${id}'s bus is not among the buses`);
      return { id, url, ...(typeof bus === 'string' ? { bus } : {}) };
    });
  }
  const total = hello.images.reduce((a, i) => a + i.bytes, 0);
  if (total > maxImageBytes) throw vbusError('ENOMEM', `the migration brings ${total} bytes of images; this runtime takes at most ${maxImageBytes} (maxImageBytes)`, { total, max: maxImageBytes });
  for (const i of hello.images) if (!hello.devices.some((d) => d.name === i.device)) bad(`image ${i.field} names device ${i.device}, which is not migrating`);
  return hello;
}

/** What checkRestorable needs to judge a HELLO: names, classes, versions, ids. */
function helloAsSnapshot(h: Hello): BusSnapshot {
  return {
    version: SNAPSHOT_VERSION,
    buses: h.buses.map((b) => ({ name: b.name, memoryBytes: b.memoryBytes, nextId: 0, links: [], image: null, connector: null })),
    devices: h.devices.map((d) => ({ name: d.name, placement: 'host', state: { cls: d.cls, version: d.version, attrs: {}, data: null } })),
    members: h.members.map((id) => ({ id, bus: '', parent: null, guest: null })),
  };
}

function matchHello(snap: BusSnapshot, h: Hello): void {
  const same = (a: string[], b: string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
  if (!same(snap.buses.map((b) => b.name), h.buses.map((b) => b.name)) || !same(snap.devices.map((d) => d.name), h.devices.map((d) => d.name))) {
    throw vbusError('EPROTO', 'the migrated bus state names other buses or devices than its HELLO did');
  }
  for (const img of h.images) {
    const d = snap.devices.find((x) => x.name === img.device)!;
    const data = d.state.data;
    if (typeof data !== 'object' || data === null || Array.isArray(data) || data instanceof Uint8Array || (data as Record<string, StateValue>)[img.field] !== null) {
      throw vbusError('EPROTO', `the migrated state of ${img.device} has no empty ${img.field} for the image sent by pages`);
    }
  }
}

function putPages(f: Frame, images: Uint8Array[]): void {
  if (f.body.length < PAGES_HEADER_BYTES) throw vbusError('EPROTO', 'a PAGES frame shorter than its header');
  const dv = new DataView(f.body.buffer, f.body.byteOffset, PAGES_HEADER_BYTES);
  const index = dv.getUint32(0, true);
  const offset = dv.getUint32(4, true);
  const bytes = f.body.subarray(PAGES_HEADER_BYTES);
  const img = images[index];
  if (!img || offset + bytes.length > img.length) {
    throw vbusError('EPROTO', `a PAGES frame for image ${index} at ${offset} (+${bytes.length}) lies outside the images announced`);
  }
  img.set(bytes, offset);
}

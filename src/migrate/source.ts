/**
 * Live migration, the source's side: `migrate(host, ['lan0', 'lan1'], { path })` moves
 * running buses, with their devices, admin state (links and ids) and guests, to the
 * runtime listening there (target.ts). Steps:
 *  1. Nothing stops yet: the buses are checked as for a save (a device linked to a bus
 *     outside the set: EINVAL), the target is told what comes (HELLO) and may refuse
 *     (names taken, a class it lacks, a state version it cannot load, another stream
 *     version: the error names both).
 *  2. Pre-copy, the buses running: each large image the device states hold (a memory
 *     disk's contents, DeviceStateSpec.images) is sent page by page, then again the
 *     pages that changed since (pages.ts), until a round finds at most `stopBelowBytes`
 *     changed or `maxRounds` rounds were made. The event loop keeps serving between
 *     slices of pages, so the devices keep running.
 *  3. Stop: the safe point of a save (src/snapshot/safe-point.ts: guests quiesce, save,
 *     devices are saved). The pages changed since the last round and the snapshot
 *     without its images go to the target, which builds the buses and says READY.
 *  4. GO: from here the bus belongs to the target. The source stops its guests and
 *     releases the buses and devices; the target starts the guests with their saved
 *     states (`guest.resumed`) and says RESUMED.
 * A failure in steps 1-3 (refused, a dropped stream, a deadline, a target that cannot
 * build) closes the stream, tells the quiesced guests to continue and rejects: the
 * buses run on here as before. A stream lost after GO was written leaves the bus with
 * the target (EIO says so): the source cannot know whether GO arrived.
 *
 * Bus memory itself is not sent: at the safe point every ring is empty (the guests
 * waited for what they had in flight) and the restored guests open fresh rings, as a
 * restored snapshot does. What must survive, the device states, is sent.
 */
import { VbusError, vbusError, ERRNO, type ErrnoCode } from '../errors.js';
import type { Bus } from '../host/bus.js';
import type { VbusHost } from '../host/host.js';
import type { StateValue } from '../state/codec.js';
import { encodeSnapshot, type BusSnapshot } from '../snapshot/format.js';
import { continueGuests, planSave, reachSafePoint, type SafePointOptions, type SavePlan } from '../snapshot/safe-point.js';
import { describeAddress, FrameChannel, readJson, type MigrationAddress } from './channel.js';
import { ImageShadow } from './pages.js';
import { FRAME, MAX_PAGES_RUN, MIGRATE_MAGIC, MIGRATE_VERSION, frame, jsonBody, pagesFrame, type Hello, type Refusal } from './wire.js';

/**
 * `settleMs` defaults to 10 here (50 for a save to a file): the pause is downtime, and a
 * device passes on what it took as it serves the ring (a switch forwards while it reads
 * the sender's ring), so what it still has to pass on after the guests quiesced is little.
 */
export interface MigrateOptions extends SafePointOptions {
  /** Most pre-copy rounds, the first full one included (default 8). */
  maxRounds?: number;
  /** Stop pre-copying once a round finds at most this many changed bytes (default 256 KiB). */
  stopBelowBytes?: number;
  /** Deadline for connecting and for each answer of the target (default 10 s). */
  replyTimeoutMs?: number;
}

/** What a migration did and how long the buses stood still. */
export interface MigrationResult {
  buses: string[];
  target: string;
  /** Pre-copy rounds made while the buses ran (the first sends every page that is not zero). */
  rounds: number;
  /** Image bytes sent while the buses ran. */
  precopyBytes: number;
  /** Image bytes sent after the stop (changed since the last round). */
  stopBytes: number;
  /** Bytes of the snapshot (device, admin and guest states) sent after the stop. */
  stateBytes: number;
  /** From the stop (guests asked to quiesce) until the target said its guests were started. */
  downtimeMs: number;
  /** The downtime in parts: safe point, sending the rest, the target building, the target starting the guests. */
  phases: { safePointMs: number; sendMs: number; buildMs: number; resumeMs: number };
  /** The whole migration, pre-copy included. */
  totalMs: number;
  /** When the buses stopped, in milliseconds since the epoch (to compare with a clock in the target's process). */
  stoppedAt: number;
}

interface Image { device: string; field: string; shadow: ImageShadow }

const now = (): number => performance.now();
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
/** Pages compared between two turns of the event loop while the buses run (1 MiB). */
const PAGES_PER_TURN = 256;

/** Moves `buses` to the runtime listening at `to` (see the module comment). */
export async function migrate(host: VbusHost, buses: ReadonlyArray<Bus | string>, to: MigrationAddress, opts: MigrateOptions = {}): Promise<MigrationResult> {
  const t0 = now();
  const replyMs = opts.replyTimeoutMs ?? 10_000;
  const maxRounds = Math.max(1, opts.maxRounds ?? 8);
  const stopBelow = opts.stopBelowBytes ?? 256 << 10;
  const plan = planSave(host, buses);
  const images = collectImages(plan);
  const peer = describeAddress(to);
  const ch = await FrameChannel.connect(to, replyMs);
  try {
    // 1. HELLO, and the target's answer.
    const hello: Hello = {
      magic: MIGRATE_MAGIC, version: MIGRATE_VERSION,
      buses: plan.buses.map((b) => ({ name: b.name, memoryBytes: b.memory.byteLength })),
      devices: plan.devices.map((d) => ({ name: d.name, cls: d.deviceClass!.name, version: d.deviceClass!.state!.version })),
      members: host.members().filter((m) => m.bus && plan.buses.includes(m.bus)).map((m) => m.id),
      images: images.map((i) => ({ device: i.device, field: i.field, bytes: i.shadow.shadow.length })),
    };
    await ch.send(frame(FRAME.HELLO, jsonBody(hello)));
    const answer = await ch.next(replyMs, 'answer to the migration request');
    if (answer.type === FRAME.REFUSE) throw remoteError(readJson<Refusal>(answer, 'REFUSE', peer), `migration target ${peer} refused`);
    if (answer.type !== FRAME.ACCEPT) throw vbusError('EPROTO', `migration target ${peer} answered frame type ${answer.type}, not ACCEPT or REFUSE`, { peer });
    const accepted = readJson<{ version?: unknown }>(answer, 'ACCEPT', peer);
    if (accepted.version !== MIGRATE_VERSION) {
      throw vbusError('ENOTSUP', `migration target ${peer} speaks migration stream version ${String(accepted.version)}; this runtime speaks version ${MIGRATE_VERSION}`, { peer, version: accepted.version, supported: MIGRATE_VERSION });
    }

    // 2. Pre-copy while the buses run.
    let rounds = 0;
    let precopyBytes = 0;
    while (images.length > 0) {
      const sent = await sendChanged(ch, images, true);
      precopyBytes += sent;
      rounds++;
      if ((rounds > 1 && sent <= stopBelow) || rounds >= maxRounds) break;
    }

    // 3. Stop, and send the rest.
    const tStop = now();
    const snap = await reachSafePoint(plan, { ...opts, settleMs: opts.settleMs ?? 10 }); // a failure here has let the guests continue
    const tSafe = now();
    let stopBytes = 0;
    let stateBytes = 0;
    let tSent = 0;
    try {
      for (const img of images) img.shadow.compareWith(takeImage(snap, img));
      stopBytes = await sendChanged(ch, images, false);
      const state = encodeSnapshot(snap);
      stateBytes = state.length;
      await ch.send(frame(FRAME.STATE, state));
      tSent = now();
      const built = await ch.next(replyMs, 'answer to the bus state');
      if (built.type === FRAME.FAILED) throw remoteError(readJson<Refusal>(built, 'FAILED', peer), `migration target ${peer} could not build the buses`);
      if (built.type !== FRAME.READY) throw vbusError('EPROTO', `migration target ${peer} answered frame type ${built.type}, not READY or FAILED`, { peer });
      if (!ch.isOpen) throw vbusError('ECONNRESET', `migration stream with ${peer} closed before GO`, { peer });
    } catch (e) {
      ch.close();
      await continueGuests(plan, opts.timeoutMs);
      throw e;
    }

    // 4. GO: the bus is the target's now.
    const tReady = now();
    await ch.send(frame(FRAME.GO, jsonBody({}))).catch(() => undefined);
    const releasing = releaseSource(host, plan);
    try {
      const r = await ch.next(replyMs, 'RESUMED');
      if (r.type !== FRAME.RESUMED) throw vbusError('EPROTO', `migration target ${peer} answered GO with frame type ${r.type}`, { peer });
    } catch (e) {
      await releasing;
      throw vbusError('EIO', `buses ${plan.buses.map((b) => b.name).join(', ')} were handed to ${peer} (GO sent), but it did not confirm that their guests started: ${(e as Error).message}`, { peer, cause: e });
    }
    const tResumed = now();
    await releasing;
    return {
      buses: plan.buses.map((b) => b.name), target: peer, rounds, precopyBytes, stopBytes, stateBytes,
      downtimeMs: tResumed - tStop,
      phases: { safePointMs: tSafe - tStop, sendMs: tSent - tSafe, buildMs: tReady - tSent, resumeMs: tResumed - tReady },
      totalMs: tResumed - t0,
      stoppedAt: performance.timeOrigin + tStop,
    };
  } finally {
    ch.close();
  }
}

function collectImages(plan: SavePlan): Image[] {
  const out: Image[] = [];
  for (const d of plan.devices) {
    const live = d.deviceClass?.state?.images?.(d) ?? {};
    for (const [field, bytes] of Object.entries(live)) out.push({ device: d.name, field, shadow: new ImageShadow(bytes) });
  }
  return out;
}

/** Takes image `img` out of the saved state (the target puts its copy back) and returns the saved bytes. */
function takeImage(snap: BusSnapshot, img: Image): Uint8Array {
  const dev = snap.devices.find((d) => d.name === img.device);
  const data = dev?.state.data as Record<string, StateValue> | null | undefined;
  const bytes = data?.[img.field];
  if (!(bytes instanceof Uint8Array) || bytes.length !== img.shadow.shadow.length) {
    throw vbusError('EINVAL', `device ${img.device} declared image ${img.field} of ${img.shadow.shadow.length} bytes, but its saved state holds no such bytes there`, { device: img.device, field: img.field });
  }
  data![img.field] = null;
  return bytes;
}

/** Sends every page that differs from what the target has; yields to the event loop between slices when `running`. */
async function sendChanged(ch: FrameChannel, images: Image[], running: boolean): Promise<number> {
  let sent = 0;
  for (let i = 0; i < images.length; i++) {
    const sh = images[i]!.shadow;
    for (let p = 0; p < sh.pages; p += PAGES_PER_TURN) {
      for (const run of sh.scan(p, p + PAGES_PER_TURN, MAX_PAGES_RUN)) {
        await ch.send(pagesFrame(i, run.offset, run.bytes));
        sent += run.bytes.length;
      }
      if (running) await turn();
    }
  }
  return sent;
}

/** After GO: stop the guests, members leave, devices and buses go. */
async function releaseSource(host: VbusHost, plan: SavePlan): Promise<void> {
  await Promise.all(plan.guests.map((g) => g.terminate()));
  for (const m of host.members()) if (m.isAlive && m.bus && plan.buses.includes(m.bus) && m.parent === null) { try { host.leave(m); } catch { /* gone with its worker */ } }
  for (const b of plan.buses) for (const { device } of b.devices()) host.unlink(b, device);
  for (const d of plan.devices) host.destroyDevice(d);
  for (const b of plan.buses) host.destroyBus(b);
}

function remoteError(r: Refusal, what: string): VbusError {
  const code = (typeof r.code === 'string' && r.code in ERRNO ? r.code : 'EIO') as ErrnoCode;
  return new VbusError(code, `${what}: ${String(r.message)}`, {});
}

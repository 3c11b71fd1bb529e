/**
 * Live migration, the source's side: `migrate(host, ['lan0', 'lan1'], { path })` moves
 * running buses, with their devices, admin state (links and ids) and guests, to the
 * runtime listening there (target.ts). Steps:
 *  1. Nothing stops yet: the buses are checked as for a save (a device linked to a bus
 *     outside the set: EINVAL), the target is told what comes (HELLO, with each guest's
 *     module) and may refuse (names taken, a class it lacks, a state version it cannot
 *     load, another stream version: the error names both). Once it accepts, it makes the
 *     buses and typed devices and starts a parked worker per guest.
 *  2. Pre-copy, the buses running: each large image the device states hold (a memory
 *     disk's contents, DeviceStateSpec.images) is sent page by page, then again the
 *     pages that changed since (pages.ts), until a round finds at most `stopBelowBytes`
 *     changed or `maxRounds` rounds were made; then, until the target says its workers
 *     have loaded their modules (PARKED), and one round more. The event loop keeps
 *     serving between slices of pages, so the devices keep running.
 *  3. Stop: the safe point of a save (src/snapshot/safe-point.ts: guests quiesce, the
 *     devices settle, guests save, devices are saved without their images). The pages
 *     changed since the last round (read from the live images: the devices are quiet)
 *     and the snapshot go to the target, which loads and links the devices: READY.
 *  4. GO: from here the bus belongs to the target. It boots the guests in their parked
 *     workers with their saved states (`guest.resumed`) and says RESUMED once each has
 *     joined and run to its first wait; then the source stops its guests and releases
 *     the buses and devices.
 * The downtime is steps 3 and 4. A failure in steps 1-3 (refused, a dropped stream, a
 * deadline, a target that cannot build) closes the stream, tells the quiesced guests to
 * continue and rejects: the buses run on here as before. A stream lost after GO was
 * written leaves the bus with the target (EIO says so): the source cannot know whether
 * GO arrived.
 *
 * The bus memory travels in the snapshot at the stop as a save writes it: its image (the
 * regions the connector's tables name, of a ring only its header and live records) and
 * the tables, so the target's guests take their connections and rings back
 * (src/snapshot/format.ts says what is carried). Only the large device images are
 * pre-copied.
 */
import { VbusError, vbusError, ERRNO, type ErrnoCode } from '../errors.js';
import type { Bus } from '../host/bus.js';
import type { VbusHost } from '../host/host.js';
import type { StateValue } from '../state/codec.js';
import { encodeSnapshot, type BusSnapshot } from '../snapshot/format.js';
import { continueGuests, planSave, reachSafePoint, type SafePointMarks, type SafePointOptions, type SavePlan } from '../snapshot/safe-point.js';
import { describeAddress, FrameChannel, readJson, type Frame, type MigrationAddress } from './channel.js';
import { ImageShadow } from './pages.js';
import { FRAME, MAX_PAGES_RUN, MIGRATE_MAGIC, MIGRATE_VERSION, frame, jsonBody, pagesFrame, type Hello, type Refusal } from './wire.js';

/**
 * `settleMs` (the longest settle pause) defaults to 10 here (50 for a save to a file):
 * the pause is downtime. Every shipped class says at once that it has settled, so the
 * pause is a turn of the event loop; the bound matters only for a class that cannot say.
 */
export interface MigrateOptions extends SafePointOptions {
  /** Most pre-copy rounds, the first full one included (default 8). */
  maxRounds?: number;
  /** Stop pre-copying once a round finds at most this many changed bytes (default 256 KiB). */
  stopBelowBytes?: number;
  /** Deadline for connecting, for each answer of the target, and for the target to take what is sent (default 10 s). */
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
  /** From the stop (guests asked to quiesce) until the target said its guests serve again (each joined and ran to its first wait). */
  downtimeMs: number;
  /**
   * The downtime in parts: the safe point (itself in parts: the guests quiescing, the
   * devices settling, the guests saving, the devices saving), sending the rest, the target
   * building, the target booting the guests until each joined and ran to its first wait.
   */
  phases: {
    safePointMs: number; quiesceMs: number; settleMs: number; guestSaveMs: number; deviceSaveMs: number;
    sendMs: number; buildMs: number; resumeMs: number;
  };
  /** Member ids of guests that had not joined on the target when it answered (after JOIN_WAIT_MS); normally empty. */
  notJoined: number[];
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
      guests: plan.guests.map((g) => ({ id: g.memberId, url: g.origin.url, bus: g.endpoint.busName })),
    };
    await ch.send(frame(FRAME.HELLO, jsonBody(hello)), replyMs);
    const answer = await ch.next(replyMs, 'answer to the migration request');
    if (answer.type === FRAME.REFUSE) throw remoteError(readJson<Refusal>(answer, 'REFUSE', peer), `migration target ${peer} refused`);
    if (answer.type !== FRAME.ACCEPT) throw vbusError('EPROTO', `migration target ${peer} answered frame type ${answer.type}, not ACCEPT or REFUSE`, { peer });
    const accepted = readJson<{ version?: unknown }>(answer, 'ACCEPT', peer);
    if (accepted.version !== MIGRATE_VERSION) {
      throw vbusError('ENOTSUP', `migration target ${peer} speaks migration stream version ${String(accepted.version)}; this runtime speaks version ${MIGRATE_VERSION}`, { peer, version: accepted.version, supported: MIGRATE_VERSION });
    }

    // 2. Pre-copy while the buses run; then, if the target parks workers, wait until
    // they have loaded (that start-up is not downtime) and copy what changed meanwhile.
    let rounds = 0;
    let precopyBytes = 0;
    while (images.length > 0) {
      const sent = await sendChanged(ch, images, true, replyMs);
      precopyBytes += sent;
      rounds++;
      if ((rounds > 1 && sent <= stopBelow) || rounds >= maxRounds) break;
    }
    // A target whose workers are slower than `replyMs` to load is not waited for longer:
    // the stop goes ahead (their start-up then counts as downtime), and a PARKED that
    // comes later is passed over where the next answer is read.
    let parkedPending = false;
    if ((accepted as { parks?: unknown }).parks === true) {
      const parked = await ch.next(replyMs, 'PARKED (the target starting the guest workers)').catch((e: unknown) => {
        if (e instanceof VbusError && e.code === 'ETIMEDOUT' && ch.isOpen) return null;
        throw e;
      });
      if (parked === null) parkedPending = true;
      else if (parked.type !== FRAME.PARKED) throw vbusError('EPROTO', `migration target ${peer} answered frame type ${parked.type}, not PARKED`, { peer });
      if (images.length > 0) { precopyBytes += await sendChanged(ch, images, true, replyMs); rounds++; }
    }
    const nextAnswer = async (what: string): Promise<Frame> => {
      let f = await ch.next(replyMs, what);
      if (parkedPending && f.type === FRAME.PARKED) { parkedPending = false; f = await ch.next(replyMs, what); }
      return f;
    };

    // 3. Stop, and send the rest.
    const tStop = now();
    const marks: SafePointMarks = {};
    // The device states come without their images: the devices are quiet now, so the
    // live images are what a save would copy, and the last round reads them directly.
    const snap = await reachSafePoint(plan, { ...opts, settleMs: opts.settleMs ?? 10 }, { marks, withoutImages: true }); // a failure here has let the guests continue
    const tSafe = now();
    let stopBytes = 0;
    let stateBytes = 0;
    let tSent = 0;
    try {
      for (const img of images) checkImageLeftOut(snap, img);
      stopBytes = await sendChanged(ch, images, false, replyMs);
      const state = encodeSnapshot(snap);
      stateBytes = state.length;
      await ch.send(frame(FRAME.STATE, state), replyMs);
      tSent = now();
      const built = await nextAnswer('answer to the bus state');
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
    // The quiesced guests here make no requests; they and the buses are released once the
    // target answers, so that tearing down workers does not take CPU from its start.
    // joinWaitMs: how long the target may wait for its guests to join before it answers,
    // well inside this side's deadline for the answer.
    await ch.send(frame(FRAME.GO, jsonBody({ joinWaitMs: Math.floor(replyMs / 2) })), replyMs).catch(() => undefined);
    let resumed: Frame;
    try {
      resumed = await nextAnswer('RESUMED');
      if (resumed.type !== FRAME.RESUMED) throw vbusError('EPROTO', `migration target ${peer} answered GO with frame type ${resumed.type}`, { peer });
    } catch (e) {
      await releaseSource(host, plan);
      throw vbusError('EIO', `buses ${plan.buses.map((b) => b.name).join(', ')} were handed to ${peer} (GO sent), but it did not confirm that their guests started: ${(e as Error).message}`, { peer, cause: e });
    }
    const tResumed = now();
    await releaseSource(host, plan);
    const late = notJoinedOf(resumed, peer);
    return {
      buses: plan.buses.map((b) => b.name), target: peer, rounds, precopyBytes, stopBytes, stateBytes,
      downtimeMs: tResumed - tStop,
      phases: {
        safePointMs: tSafe - tStop, quiesceMs: marks.quiesced! - tStop, settleMs: marks.settled! - marks.quiesced!,
        guestSaveMs: marks.guestsSaved! - marks.settled!, deviceSaveMs: tSafe - marks.guestsSaved!,
        sendMs: tSent - tSafe, buildMs: tReady - tSent, resumeMs: tResumed - tReady,
      },
      notJoined: late,
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

/** Checks that the saved state of `img`'s device left the image's field empty (the target puts its copy there). */
function checkImageLeftOut(snap: BusSnapshot, img: Image): void {
  const dev = snap.devices.find((d) => d.name === img.device);
  const data = dev?.state.data as Record<string, StateValue> | null | undefined;
  if (!data || typeof data !== 'object' || data[img.field] !== null) {
    throw vbusError('EINVAL', `device ${img.device} declared image ${img.field}, but its state saved without images has no empty field ${img.field}`, { device: img.device, field: img.field });
  }
}

/** Sends every page that differs from what the target has; yields to the event loop between slices when `running`. */
async function sendChanged(ch: FrameChannel, images: Image[], running: boolean, timeoutMs: number): Promise<number> {
  let sent = 0;
  for (let i = 0; i < images.length; i++) {
    const sh = images[i]!.shadow;
    for (let p = 0; p < sh.pages; p += PAGES_PER_TURN) {
      for (const run of sh.scan(p, p + PAGES_PER_TURN, MAX_PAGES_RUN)) {
        await ch.send(pagesFrame(i, run.offset, run.bytes), timeoutMs);
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

/** RESUMED's `notJoined` (member ids), read leniently: the buses are the target's already. */
function notJoinedOf(f: Frame, peer: string): number[] {
  try {
    const v = readJson<{ notJoined?: unknown }>(f, 'RESUMED', peer).notJoined;
    return Array.isArray(v) ? v.filter((x): x is number => Number.isSafeInteger(x)) : [];
  } catch {
    return [];
  }
}

function remoteError(r: Refusal, what: string): VbusError {
  const code = (typeof r.code === 'string' && r.code in ERRNO ? r.code : 'EIO') as ErrnoCode;
  return new VbusError(code, `${what}: ${String(r.message)}`, {});
}

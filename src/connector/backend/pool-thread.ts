/**
 * The body of one backend pool thread: many devices, on many buses, served by one serve
 * group (serve-group.ts, the loop the host runs for its buses) with one wait.
 *
 * The one wait. Every device's doorbell is a signal in its own bus memory, and a thread
 * cannot Atomics.wait on words of several memories at once, so the group parks with one
 * Atomics.waitAsync per device, raced (the host's way); the thread's event loop is
 * then the one thing it waits on, and the same loop delivers control messages. Why no
 * wake-up is lost is the shm-signal protocol's argument per doorbell (src/core/signal.ts:
 * ENABLED store / data load against data store / ENABLED load, all seq-cst), which the
 * group runs for every member before it parks; the group spins once for all of them.
 *
 * Control messages (open, shm, close, attr, stop) come on the thread's channel and are
 * applied between rounds; each then wakes the device's doorbell, so a round runs even if
 * the host's own raise was consumed before the message arrived. A doorbell's wake-up can
 * be handled before a message the host posted earlier, so the host also counts its
 * messages in shared memory and a device's requests wait (the device parks, its slot
 * keeps the request) while its count is ahead of what was applied: an attribute write,
 * an open, a close or a ring is never missed by a request the guest made after it
 * (BackendMember.controlsInFlight). A device's messages that
 * come while its model module is still loading wait for it, in order.
 */
import { BusMemory } from '../../core/bus-memory.js';
import { VbusError, vbusError } from '../../errors.js';
import { workerContext } from '../../platform/index.js';
import { GROUP_SPIN, ServeGroup } from '../serve-group.js';
import type { ConnectorModel } from '../types.js';
import { BackendMember, BACKEND_SLICE_MS, type BackendModel } from './backend-member.js';
import type { BackendControl, BackendStart, PoolCommand, PoolEvent } from './protocol.js';
import { observeBackendModel, type ObservedBackendModel } from './backend-stats.js';

/** What a pool thread is started with. */
export interface PoolThreadData {
  id: number;
  /** A pinned device's own spin policy (its thread serves nothing else). */
  spin?: { initial?: number; max?: number; fixed?: number };
}


interface Entry {
  member: BackendMember | null;
  model: ObservedBackendModel | null;
  /** Messages that came while the model was loading, with their sequence numbers. */
  queued: Array<{ seq: number; msg: BackendControl }>;
  /** Lets go of the model (a shared one ends with its last device). */
  release(): void;
}

/** Creates a device's model from its start message (module, factory, stats wrapper). */
async function createModel(start: BackendStart): Promise<ObservedBackendModel> {
  const mod = (await import(start.modelUrl)) as Record<string, unknown>;
  const factory = mod[start.modelExport];
  if (typeof factory !== 'function') throw vbusError('ENOENT', `${start.modelUrl} has no export '${start.modelExport}' to create the device model`, { modelUrl: start.modelUrl });
  const model = (factory as (init: unknown) => ConnectorModel)(start.init) as BackendModel;
  return start.stats ? observeBackendModel(model, start.stats) : model;
}

export async function runPoolThread(): Promise<void> {
  const ctx = await workerContext<PoolThreadData>();
  const group = new ServeGroup({ sliceMs: BACKEND_SLICE_MS, spin: ctx.data.spin ?? GROUP_SPIN });
  const entries = new Map<number, Entry>();
  /** Models shared by the links of one device (BackendStart.share), with how many devices use each. */
  const shared = new Map<number, { model: Promise<ObservedBackendModel>; users: number }>();
  const modelOf = (start: BackendStart): { model: Promise<ObservedBackendModel>; release(): void } => {
    const key = start.share;
    if (key === undefined) return { model: createModel(start), release: () => {} };
    let s = shared.get(key);
    if (!s) { s = { model: createModel(start), users: 0 }; shared.set(key, s); }
    s.users++;
    const mine = s;
    return { model: s.model, release: () => { if (--mine.users === 0 && shared.get(key) === mine) shared.delete(key); } };
  };
  const post = (e: PoolEvent): void => ctx.postMessage(e);

  const stop = async (key: number, member: BackendMember): Promise<void> => {
    const e = entries.get(key);
    entries.delete(key);
    await group.remove(member); // the group no longer touches the device
    post({ t: 'ended', key, report: member.finish() });
    e?.release();
  };

  const apply = (key: number, e: Entry, seq: number, m: BackendControl): void => {
    if (!e.member) { e.queued.push({ seq, msg: m }); return; }
    if (m.t === 'stop') { e.member.applied(seq); void stop(key, e.member); return; }
    if (m.t === 'shm' && m.statsRing !== undefined) e.model?.expectRing?.(m.region.offset, m.statsRing);
    e.member.control(m);
    e.member.applied(seq); // after the state changed: requests held for this message may be served now
    e.member.waiter.wake(); // a round runs with the new state (and serves what waited for it)
  };

  const add = async (key: number, start: BackendStart, posted: SharedArrayBuffer): Promise<void> => {
    const { model: made, release } = modelOf(start);
    const e: Entry = { member: null, model: null, queued: [], release };
    entries.set(key, e);
    let member: BackendMember;
    try {
      const model = await made; // awaited first: a failed module is this device's failure, never an unhandled rejection
      const bus = BusMemory.attach(start.memory, start.module);
      e.model = model;
      member = new BackendMember(bus, start.busName, start.deviceId, start.doorbell, model, start.slotPayload, (notice) => post({ t: 'notice', key, notice }), new Int32Array(posted));
    } catch (err) {
      entries.delete(key);
      release();
      // Only this device fails: the thread goes on serving the others.
      const code = err instanceof VbusError ? err.code : 'EIO';
      post({ t: 'failed', key, code, message: `backend device ${start.deviceId} on bus ${start.busName} could not start: ${err instanceof Error ? err.message : String(err)}` });
      return;
    }
    e.member = member;
    const queued = e.queued.splice(0);
    if (queued.some((q) => q.msg.t === 'stop')) { entries.delete(key); post({ t: 'ended', key, report: member.finish() }); release(); return; }
    group.add(member);
    for (const q of queued) apply(key, e, q.seq, q.msg);
  };

  ctx.onMessage((raw) => {
    const cmd = raw as PoolCommand;
    if (cmd.t === 'add') { void add(cmd.key, cmd.start, cmd.posted); return; }
    const e = entries.get(cmd.key);
    if (e) apply(cmd.key, e, cmd.seq, cmd.msg);
  });
}

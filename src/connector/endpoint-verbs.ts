/**
 * The five verbs of the connector as the host endpoint answers them (DEVOPEN, DEVCLOSE,
 * DEVCALL, DEVSHM, SHMSIGNAL), after the slot server claimed and decoded a request.
 * Every device model hook runs here, guarded: a VbusError it throws is its answer, any
 * other failure is a device fault (EIO to the guest, reported once by the slot server).
 */
import {
  OP_DEVOPEN, OP_DEVCLOSE, OP_DEVCALL, OP_DEVSHM, OP_SHMSIGNAL, SHM_RING_TO_DEVICE, SHM_RING_TO_GUEST,
  CALL_DEVID, CALL_HANDLE, CALL_FUNC, CALL_LEN, CALL_ARG0, CALL_ARG1, CALL_ARG2, CONN_FUNC_MIN,
} from '../../assembly/layout/callslot.js';
import { ERRNO, VbusError } from '../errors.js';
import type { BusMemory } from '../core/bus-memory.js';
import { HT_ENTRIES } from './decode-tables.js';
import { HostConnection, type EndpointDevice, type EndpointMember } from './endpoint-member.js';
import { placeShm } from './shm-placement.js';
import { REPLY_OK, type Answer, type FaultContext, type SlotServer } from './slot-server.js';
import type { ShmRegion } from './types.js';

/** What the verbs need of their endpoint. */
export interface VerbContext {
  readonly memory: BusMemory;
  readonly busName: string;
  readonly server: SlotServer;
  device(id: number): EndpointDevice | undefined;
  closeConnection(conn: HostConnection, freeRegions: boolean): void;
  /** DEVCALL of a function from CONN_FUNC_MIN up: the connector's own (status, reset). */
  connectorCall(conn: HostConnection, func: number): Answer;
  /** Starts the host-thread watcher of a ring (no placement). */
  watch(conn: HostConnection, region: ShmRegion, signal: number): void;
}

const status = (s: number): Answer => ({ status: s });

export function dispatchVerb(ctx: VerbContext, m: EndpointMember, op: number): Answer {
  const t = ctx.server.tables;
  switch (op) {
    case OP_DEVOPEN: return devOpen(ctx, m, t.field(CALL_DEVID), t.field(CALL_ARG0));
    case OP_DEVCLOSE: return devClose(ctx, m, t.field(CALL_HANDLE));
    case OP_DEVCALL: return devCall(ctx, m, t.field(CALL_HANDLE), t.field(CALL_FUNC), t.field(CALL_LEN));
    case OP_DEVSHM: return devShm(ctx, m, t.field(CALL_HANDLE), t.field(CALL_ARG0), t.field(CALL_ARG1), t.field(CALL_ARG2));
    case OP_SHMSIGNAL: return shmSignal(ctx, m, t.field(CALL_HANDLE), t.field(CALL_ARG0));
    default: return status(-ERRNO.EINVAL);
  }
}

function faultCtx(ctx: VerbContext, m: EndpointMember, dev: EndpointDevice, hook: string, func?: number): FaultContext {
  return { busName: ctx.busName, deviceId: dev.id, memberId: m.memberId, hook, ...(func !== undefined ? { func } : {}) };
}

function devOpen(ctx: VerbContext, m: EndpointMember, devId: number, version: number): Answer {
  const dev = ctx.device(devId);
  if (!dev) return status(-ERRNO.ENOENT);
  let h = 0;
  for (let i = 1; i < HT_ENTRIES; i++) if (!m.handles[i]) { h = i; break; }
  if (h === 0) return status(-ERRNO.ENOSPC);
  const conn = new HostConnection(ctx.memory, ctx.busName, m, h, dev, version);
  try {
    dev.model.open?.(conn); // may refuse by throwing: nothing was recorded yet
  } catch (e) {
    return status(ctx.server.modelErrno(e, faultCtx(ctx, m, dev, 'open')));
  }
  m.handles[h] = conn;
  dev.conns.add(conn);
  ctx.server.tables.setHandle(m.hTab, h, devId, dev.gen);
  const direct = dev.placement?.directSlot(conn.id);
  return { status: 0, rvals: direct ? [h, direct.slot, direct.doorbell] : [h, 0, 0] };
}

function devClose(ctx: VerbContext, m: EndpointMember, h: number): Answer {
  const conn = m.handles[h];
  if (!conn) return status(-ERRNO.ENOENT);
  ctx.closeConnection(conn, true);
  return REPLY_OK;
}

function devCall(ctx: VerbContext, m: EndpointMember, h: number, func: number, len: number): Answer {
  const conn = m.handles[h];
  if (!conn || !conn.open) return status(-ERRNO.ENOENT);
  if (func >= CONN_FUNC_MIN) return ctx.connectorCall(conn, func); // never the model's
  const model = conn.device.model;
  if (!model.call) return status(-ERRNO.ENOSYS);
  const fc = (): FaultContext => faultCtx(ctx, m, conn.device, 'call', func); // built only for a fault
  let r: unknown;
  try {
    r = model.call(conn, func, m.request.of(len), m.payloadView);
  } catch (e) {
    return status(ctx.server.modelErrno(e, fc));
  }
  return ctx.server.callAnswer(r, fc, conn);
}

function devShm(ctx: VerbContext, m: EndpointMember, h: number, queue: number, bytes: number, kind: number): Answer {
  const conn = m.handles[h];
  if (!conn || !conn.open) return status(-ERRNO.ENOENT);
  const placement = conn.device.placement;
  let placed: ReturnType<typeof placeShm>;
  try {
    placed = placeShm(ctx.memory, conn.shms.length, queue, kind, bytes, placement);
  } catch (e) {
    if (e instanceof VbusError && e.code === 'ENOSPC') return status(-ERRNO.ENOSPC);
    throw e;
  }
  const { region, undo } = placed;
  conn.shms.push(region);
  try {
    conn.device.model.shm?.(conn, region); // may refuse by throwing: undo below
  } catch (e) {
    conn.shms.pop();
    undo();
    return status(ctx.server.modelErrno(e, faultCtx(ctx, m, conn.device, 'shm')));
  }
  if (placement === undefined) {
    // Rings only: a buffer has no signals (they are 0) and nothing to watch.
    if (kind === SHM_RING_TO_DEVICE) ctx.watch(conn, region, region.dataSignal);
    else if (kind === SHM_RING_TO_GUEST) ctx.watch(conn, region, region.spaceSignal);
  }
  ctx.server.tables.setShmCount(m.hTab, h, conn.shms.length);
  return { status: 0, rvals: [region.offset, region.dataSignal, region.spaceSignal, region.id] };
}

function shmSignal(ctx: VerbContext, m: EndpointMember, h: number, shmId: number): Answer {
  const conn = m.handles[h];
  const region = conn?.shms[shmId];
  if (!conn || !region) return status(-ERRNO.EINVAL);
  const model = conn.device.model;
  try {
    model.signal?.(conn, region);
    model.poll?.(conn);
  } catch (e) {
    return status(ctx.server.modelErrno(e, faultCtx(ctx, m, conn.device, 'signal')));
  }
  return REPLY_OK;
}

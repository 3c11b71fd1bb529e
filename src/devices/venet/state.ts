/**
 * The saved state of the venet classes (venet-loopback, venet-switch, venet-tap), format
 * version 3 (version 1, which it also loads, is the same):
 *
 *   counters   rx_frames, rx_bytes, tx_frames, tx_bytes, drops, faults
 *   negotiated the device's latest negotiated feature bits (its `negotiated` attribute)
 *   nextPort   the number the next new port gets
 *   ports      per open connection: bus, member, device id, port number, negotiated bits,
 *              `queues` (queue pairs) when the port negotiated more than one
 *   fdb        venet-switch only: learned MAC (48-bit number), port number, age in ms
 *   tap        venet-tap only: mtu and features_cap (set through venetTap(), not attributes)
 *
 * A loaded device keeps the saved ports until their guests open it again: a guest that
 * reconnects from the same bus and member gets its port number (so a switch port keeps
 * its MAC) and its negotiated features, which QUERY reports, so its driver does not
 * negotiate again. A switch's learned addresses follow their ports. The frames waiting in
 * a port's RX rings are not part of it: a bus save carries the rings themselves (its bus
 * memory image, src/snapshot/bus-image.ts). Version 2 carried them here, for restored
 * guests that opened fresh rings; it is refused (ENOTSUP naming the versions), since
 * this runtime has nowhere to put them.
 */
import type { DeviceStateSpec } from '../../state/contract.js';
import { StateReader } from '../../state/read.js';
import type { StateValue } from '../../state/codec.js';
import type { Device } from '../../host/device.js';
import { vbusError } from '../../errors.js';
import { VENET_F_ALL, VENET_F_MQ, VENET_MAX_MTU, VENET_MAX_QUEUES, VENET_MIN_MTU, featuresToText } from './abi.js';
import type { VenetModelBase } from './model-base.js';
import type { SavedPort } from './port-state.js';
import { STAT_ATTRS, STAT_NEGOTIATED } from './stats.js';
import { VenetSwitchModel } from './switch-model.js';
import { TAP_FEATURES, VenetTapModel } from './tap-model.js';

/** The version this runtime writes (3: ports without RX frames; 2 carried them). */
export const VENET_STATE_VERSION = 3;
/** Older versions it loads (1: the same fields). */
const VENET_STATE_LOADS = [1] as const;

function model(device: Device): VenetModelBase {
  return device.model as unknown as VenetModelBase;
}

function save(device: Device): StateValue {
  if (device.placement === 'backend' && device.links().length > 0) {
    throw vbusError('ENOTSUP', `venet device ${device.name} runs in a backend worker: its ports live there; save it unlinked or in host placement`, { device: device.name });
  }
  const m = model(device);
  const words = m.stats.words;
  m.stats.flush();
  const counters: Record<string, number> = {};
  for (const [name, i] of STAT_ATTRS) counters[name] = Number(Atomics.load(words, i)); // flushed adds are visible
  const { ports, next } = m.openPorts();
  const saved: SavedPort[] = ports.map((p) => ({
    bus: p.conn.busName, member: p.conn.memberId, device: p.conn.deviceId, index: p.index, negotiated: p.negotiated,
    ...(p.queues > 1 ? { queues: p.queues } : {}), // absent means 1: states of single-queue ports read as before
  }));
  const out: Record<string, StateValue> = {
    counters,
    negotiated: Number(Atomics.load(words, STAT_NEGOTIATED)),
    nextPort: next,
    ports: [...saved, ...m.restoredPorts].map((p) => ({ ...p })),
  };
  if (m instanceof VenetSwitchModel) out['fdb'] = m.fdbEntries();
  if (m instanceof VenetTapModel) out['tap'] = { mtu: m.cfg.mtu, features_cap: m.cfg.featuresCap };
  return out;
}

function prepare(device: Device, data: StateValue): () => void {
  const m = model(device);
  const r = new StateReader(data, `${device.deviceClass!.name} state`);
  const c = r.field('counters');
  const counters = STAT_ATTRS.map(([name, i]) => [i, c.field(name).int()] as const);
  const negotiated = r.field('negotiated').int(0, VENET_F_ALL | VENET_F_MQ);
  const nextPort = r.field('nextPort').int(0, 0x7fffffff);
  const ports: SavedPort[] = r.field('ports').items().map((p) => ({
    bus: p.field('bus').str(), member: p.field('member').int(0, 0x7fffffff), device: p.field('device').int(0, 0x7fffffff),
    index: p.field('index').int(0, nextPort), negotiated: p.field('negotiated').int(0, VENET_F_ALL | VENET_F_MQ),
    ...(p.has('queues') ? { queues: p.field('queues').int(1, VENET_MAX_QUEUES) } : {}),
  }));
  const isSwitch = m instanceof VenetSwitchModel;
  const fdb = isSwitch ? r.field('fdb').items().map((e) => ({ mac: e.field('mac').int(0, 0xffffffffffff), port: e.field('port').int(0, nextPort), age: e.field('age').int() })) : [];
  let tap: { mtu: number; features: number } | null = null;
  if (m instanceof VenetTapModel) {
    const t = r.field('tap');
    tap = { mtu: t.field('mtu').int(VENET_MIN_MTU, VENET_MAX_MTU), features: t.field('features_cap').int(0, TAP_FEATURES) };
  }
  return () => {
    const words = m.stats.words;
    for (const [i, v] of counters) Atomics.store(words, i, BigInt(v)); // the device is unlinked: nobody adds meanwhile
    m.stats.setNegotiated(negotiated);
    m.restoredPorts = ports;
    m.continuePortsFrom(nextPort);
    if (isSwitch) (m as VenetSwitchModel).restoredFdb = fdb;
    if (tap && m instanceof VenetTapModel) {
      m.configure('mtu', String(tap.mtu));
      m.configure('features_cap', featuresToText(tap.features));
    }
  };
}

/**
 * Always settled when the safe point looks (between turns of the event loop): a venet
 * device forwards a frame while it reads the sender's ring, or leaves it there (NO_ROOM,
 * and the sender's quiesce waits for its ring to empty), and every pass publishes what
 * it delivered before it returns. It holds no frame of its own.
 */
const settled = (): boolean => true;

/** The state format of every venet class. */
export const venetState: DeviceStateSpec = { version: VENET_STATE_VERSION, loads: VENET_STATE_LOADS, save, prepare, settled };

/**
 * The saved state of a vconsole, format version 1:
 *
 *   counters  rx_bytes, tx_bytes, drops
 *   input     host input the guest has not read yet (chunks): what sat in its input
 *             ring unread, then what waited for room; and `inputEnd`: whether
 *             end-of-input follows it
 *   output    guest output a memory endpoint holds unread (null for other endpoints,
 *             which handed it on already)
 *
 * Nothing typed is lost across a save: the loaded console delivers the held input to
 * the next guest that connects, and the host reads the held output as if it had just
 * arrived.
 */
import type { DeviceStateSpec } from '../../state/contract.js';
import { StateReader } from '../../state/read.js';
import type { StateValue } from '../../state/codec.js';
import type { Device } from '../../host/device.js';
import { ConsoleModel } from './model.js';

/** The version this runtime writes. */
export const VCONSOLE_STATE_VERSION = 1;

function model(device: Device): ConsoleModel {
  return device.model as ConsoleModel;
}

function save(device: Device): StateValue {
  const m = model(device);
  const held = m.heldBytes();
  return {
    // rx_bytes counts input put in the guest's ring; what sits there unread is delivered again after a load.
    counters: { rx_bytes: m.counters.rxBytes - held.inRing, tx_bytes: m.counters.txBytes, drops: m.counters.drops },
    input: held.input, inputEnd: held.inputEnd, output: held.output,
  };
}

function prepare(device: Device, data: StateValue): () => void {
  const m = model(device);
  const r = new StateReader(data, 'vconsole state');
  const c = r.field('counters');
  const rx = c.field('rx_bytes').int(), tx = c.field('tx_bytes').int(), drops = c.field('drops').int();
  const input = r.field('input').items().map((b) => b.bytes());
  const inputEnd = r.field('inputEnd').bool();
  const o = r.field('output');
  const output = o.value === null ? null : o.bytes();
  return () => {
    m.counters.rxBytes = rx;
    m.counters.txBytes = tx;
    m.counters.drops = drops;
    m.restoreHeld(input, inputEnd, output);
  };
}

/**
 * Always settled: guest output goes to the endpoint as the ring is read (a quiesced guest
 * saw its output taken), and host input still waiting for the guest is part of the state.
 */
const settled = (): boolean => true;

/** The state format of the vconsole class. */
export const vconsoleState: DeviceStateSpec = { version: VCONSOLE_STATE_VERSION, save, prepare, settled };

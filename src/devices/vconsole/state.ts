/**
 * The saved state of a vconsole, format version 2:
 *
 *   counters  rx_bytes, tx_bytes, drops
 *   input     host input not yet put in a guest's input ring (chunks); and `inputEnd`:
 *             whether end-of-input follows it. What sits in the ring unread is in the
 *             bus memory image of a bus save (src/snapshot/bus-image.ts), and `rx_bytes`
 *             counts it. Version 1, which this loads, put that ring's unread input here
 *             too (and left it out of `rx_bytes`): delivered again to the next guest that
 *             connects, which is right for a console that comes back without its ring.
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

/** The version this runtime writes (2: the input ring's contents are not part of it). */
export const VCONSOLE_STATE_VERSION = 2;

function model(device: Device): ConsoleModel {
  return device.model as ConsoleModel;
}

function save(device: Device): StateValue {
  const m = model(device);
  const held = m.heldBytes();
  return {
    counters: { rx_bytes: m.counters.rxBytes, tx_bytes: m.counters.txBytes, drops: m.counters.drops },
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
export const vconsoleState: DeviceStateSpec = { version: VCONSOLE_STATE_VERSION, loads: [1], save, prepare, settled };

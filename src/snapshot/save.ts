/**
 * Saving buses: `saveBuses(host, ['lan0', 'lan1'])` brings the buses to a safe point
 * and returns the snapshot file's bytes (format.ts).
 *
 * The safe point, in steps:
 *  1. Every guest on the buses is asked to quiesce (`guest.onQuiesce`): it stops making
 *     new requests and waits for those in flight (disk writes acknowledged, frames taken
 *     by the device, console output taken). No call is half-served after this: each
 *     guest's own calls have returned.
 *  2. The host waits `settleMs` so the devices pass on what they took (a switch's frames
 *     reach their receivers' rings), then asks every guest to save (`guest.onSave`): it
 *     takes in what arrived and returns its state.
 *  3. Every device on the buses is saved (src/state), then the guests are stopped (the
 *     saved run continues where the snapshot is restored).
 * Any failure before step 3 (a guest that does not answer within `timeoutMs`, a device
 * that cannot be saved) rejects and leaves the guests running, quiesced.
 *
 * A device linked to a bus outside the set cannot be saved with it (its other side
 * would be missing): EINVAL naming it.
 */
import { vbusError } from '../errors.js';
import type { Bus } from '../host/bus.js';
import type { Device } from '../host/device.js';
import type { VbusHost } from '../host/host.js';
import type { StateValue } from '../state/codec.js';
import { saveDeviceState } from '../state/device-state.js';
import { askGuest } from './guest-control.js';
import { encodeSnapshot, SNAPSHOT_VERSION, type BusSnapshot, type SavedMember } from './format.js';

export interface SaveOptions {
  /** Deadline for each guest's answer to quiesce and to save (default 10 s). */
  timeoutMs?: number;
  /** Pause between quiesce and save, for devices to pass on what they took (default 50 ms). */
  settleMs?: number;
  /** Stop the guests once saved (default true). */
  stopGuests?: boolean;
}

/** Saves `buses` with their devices, members and guest states (see the module comment). */
export async function saveBuses(host: VbusHost, buses: ReadonlyArray<Bus | string>, opts: SaveOptions = {}): Promise<Uint8Array> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const set = buses.map((b) => {
    const bus = typeof b === 'string' ? host.bus(b) : b;
    if (!bus || !bus.isAlive) throw vbusError('ENOENT', `no bus ${typeof b === 'string' ? b : b.name} to save`, { bus: typeof b === 'string' ? b : b.name });
    return bus;
  });
  const names = new Set(set.map((b) => b.name));
  const devices = new Map<string, Device>();
  for (const bus of set) {
    for (const { device } of bus.devices()) {
      const outside = device.links().find((l) => !names.has(l.bus.name));
      if (outside) throw vbusError('EINVAL', `device ${device.name} is also linked to bus ${outside.bus.name}, which is not being saved: save it with ${[...names].join(', ')}`, { device: device.name, bus: outside.bus.name });
      if (!device.deviceClass?.state) throw vbusError('ENOTSUP', `device ${device.name} (class ${device.deviceClass?.name}) declares no state format and cannot be saved`, { device: device.name });
      devices.set(device.name, device);
    }
  }
  const members = host.members().filter((m) => m.bus && names.has(m.bus.name));
  const guests = members.map((m) => host.connector.guest(m.id));
  const running = guests.filter((g) => g?.running);

  await Promise.all(running.map((g) => askGuest(g!, 'vbus:quiesce', timeoutMs)));
  await new Promise((r) => setTimeout(r, opts.settleMs ?? 50));
  const states = await Promise.all(guests.map((g) => (g?.running ? askGuest(g, 'vbus:save', timeoutMs) : undefined)));

  const snap: BusSnapshot = {
    version: SNAPSHOT_VERSION,
    buses: set.map((b) => ({
      name: b.name, memoryBytes: b.memory.byteLength, nextId: b._peekId(),
      links: b.devices().map(({ id, device }) => ({ id, device: device.name })),
    })),
    devices: [...devices.values()].map((d) => ({ name: d.name, placement: d.placement, state: saveDeviceState(d) })),
    members: members.map((m, i): SavedMember => {
      const g = guests[i];
      return {
        id: m.id, bus: m.bus!.name, parent: m.parent?.id ?? null,
        guest: g ? { url: g.origin.url, data: (g.origin.data ?? null) as StateValue, state: (states[i] ?? null) as StateValue } : null,
      };
    }),
  };
  const bytes = encodeSnapshot(snap); // EINVAL here (a guest state the file cannot hold) still leaves the guests running
  if (opts.stopGuests !== false) await Promise.all(running.map((g) => g!.terminate()));
  return bytes;
}

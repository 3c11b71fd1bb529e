/**
 * Bringing buses to a safe point and taking their snapshot, without deciding what
 * happens next: saveBuses (save.ts) stops the guests afterwards, a migration
 * (src/migrate) stops them only once the target has the bus and otherwise lets them
 * carry on. The steps:
 *  1. Every guest on the buses is asked to quiesce (`guest.onQuiesce`): it stops making
 *     new requests and waits for those in flight (disk writes acknowledged, frames taken
 *     by the device, console output taken). No call is half-served after this: each
 *     guest's own calls have returned.
 *  2. The host waits until every device says it has passed on what it took (a switch's
 *     frames are in their receivers' rings: DeviceStateSpec.settled), at most
 *     `settleMs` (the whole pause for a class that cannot say), then asks every guest to
 *     save (`guest.onSave`): it takes in what arrived and returns its state.
 *  3. Every device on the buses is saved (src/state).
 * A failure in any step tells the guests that quiesced to continue (`guest.onContinue`)
 * and rejects: the buses run on as before.
 *
 * A device linked to a bus outside the set cannot be saved with it (its other side
 * would be missing): EINVAL naming it.
 */
import { vbusError } from '../errors.js';
import type { Bus } from '../host/bus.js';
import type { Device } from '../host/device.js';
import type { VbusHost } from '../host/host.js';
import type { GuestWorker } from '../connector/spawn-guest.js';
import type { StateValue } from '../state/codec.js';
import { saveDeviceState } from '../state/device-state.js';
import { macrotask } from '../core/macrotask.js';
import { askGuest, type GuestAnswer } from './guest-control.js';
import { captureImage } from './bus-image.js';
import type { SavedEndpoint } from '../connector/endpoint-tables.js';
import { readSavedConnector } from '../guest/resume.js';
import { SNAPSHOT_VERSION, type BusSnapshot, type SavedMember } from './format.js';

export interface SafePointOptions {
  /** Deadline for each guest's answer to quiesce and to save (default 10 s). */
  timeoutMs?: number;
  /**
   * Longest pause between quiesce and save, for devices to pass on what they took
   * (default 50 ms); it ends as soon as every device says it has (DeviceStateSpec.settled).
   */
  settleMs?: number;
}

/** What a save has checked before anything stops: the buses, their devices, members and guests. */
export interface SavePlan {
  host: VbusHost;
  buses: Bus[];
  devices: Device[];
  guests: GuestWorker[];
}

/** Checks that `buses` can be saved together (see the module comment); stops nothing. */
export function planSave(host: VbusHost, buses: ReadonlyArray<Bus | string>): SavePlan {
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
  const guests = host.members().filter((m) => m.bus && names.has(m.bus.name))
    .map((m) => host.connector.guest(m.id)).filter((g): g is GuestWorker => g !== undefined && g.running);
  return { host, buses: set, devices: [...devices.values()], guests };
}

/** Tells every guest of the plan to carry on after a given-up save; never rejects. */
export async function continueGuests(plan: SavePlan, timeoutMs = 10_000): Promise<void> {
  await Promise.all(plan.guests.filter((g) => g.running).map((g) => askGuest(g, 'vbus:continue', timeoutMs).catch(() => undefined)));
}

/**
 * Step 2's pause: one turn of the event loop (the serve loop takes what the last
 * doorbells rang for), then until every device has settled or `maxMs` passed.
 */
async function settle(devices: readonly Device[], maxMs: number): Promise<void> {
  const end = performance.now() + maxMs;
  const settled = (): boolean => devices.every((d) => d.deviceClass?.state?.settled?.(d) ?? false);
  await macrotask();
  while (!settled() && performance.now() < end) await new Promise((r) => setTimeout(r, Math.min(1, Math.max(0, end - performance.now()))));
}

/** When each step of the safe point ended (performance.now()), for a migration's report. */
export interface SafePointMarks { quiesced?: number; settled?: number; guestsSaved?: number }

/** How a migration takes the safe point: timing marks to fill, and the images left out of the device states. */
export interface SafePointRun { marks?: SafePointMarks; withoutImages?: boolean }

/**
 * Steps 1-3 of the module comment; resolves with the snapshot, the guests quiet (not
 * stopped). `run.marks` is filled with the end of each step; with `run.withoutImages`
 * the image fields of the device states are null (DeviceStateSpec.images).
 */
export async function reachSafePoint(plan: SavePlan, opts: SafePointOptions = {}, run: SafePointRun = {}): Promise<BusSnapshot> {
  const marks = run.marks ?? {};
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const { host } = plan;
  try {
    await Promise.all(plan.guests.map((g) => askGuest(g, 'vbus:quiesce', timeoutMs)));
    marks.quiesced = performance.now();
    await settle(plan.devices, opts.settleMs ?? 50);
    marks.settled = performance.now();
    const states = new Map<number, GuestAnswer>();
    await Promise.all(plan.guests.map(async (g) => { states.set(g.memberId, await askGuest(g, 'vbus:save', timeoutMs)); }));
    marks.guestsSaved = performance.now();
    const names = new Set(plan.buses.map((b) => b.name));
    const members = host.members().filter((m) => m.bus && names.has(m.bus.name));
    const buses = plan.buses.map((b) => {
      const ep = host.connector.endpoint(b);
      const tables = ep.saveTables((id) => states.has(id)); // the guest workers saved here; they come back with their connections
      return {
        name: b.name, memoryBytes: b.memory.byteLength, nextId: b._peekId(),
        links: b.devices().map(({ id, device }) => ({ id, device: device.name })),
        connector: tables, image: captureImage(b.memory, ep.imagePlan(tables)),
      };
    });
    // Which connections each member comes back with (the host's tables decide, not the guest).
    const carried = new Map<number, SavedEndpoint['members'][number]['conns']>();
    for (const b of buses) for (const m of b.connector.members) carried.set(m.id, m.conns);
    return {
      version: SNAPSHOT_VERSION,
      buses,
      devices: plan.devices.map((d) => ({ name: d.name, placement: d.placement, state: saveDeviceState(d, { withoutImages: run.withoutImages ?? false }) })),
      members: members.map((m): SavedMember => {
        const g = plan.guests.find((x) => x.memberId === m.id);
        return {
          id: m.id, bus: m.bus!.name, parent: m.parent?.id ?? null,
          guest: g ? {
            url: g.origin.url, data: (g.origin.data ?? null) as StateValue,
            state: (states.get(m.id)?.state ?? null) as StateValue, connector: guestConnector(states.get(m.id)?.connector, carried.get(m.id) ?? []),
          } : null,
        };
      }),
    };
  } catch (e) {
    await continueGuests(plan, timeoutMs);
    throw e;
  }
}

/**
 * A guest's saved connector state, keeping only the connections the host's tables carry
 * (same device and handle): one left out (a backend device's) is opened anew on resume.
 */
function guestConnector(v: unknown, conns: ReadonlyArray<{ deviceId: number; handle: number }>): StateValue {
  const s = readSavedConnector(v);
  if (!s) return null;
  const keep = s.conns.filter((c) => conns.some((k) => k.deviceId === c.deviceId && k.handle === c.handle));
  return { devices: s.devices, conns: keep.map((c) => ({ ...c, regions: c.regions.map((r) => ({ ...r })), driver: (c.driver ?? null) as StateValue })) } as StateValue;
}

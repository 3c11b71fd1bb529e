/**
 * Guests on a host: ties the host's object model (buses, devices, members) to the
 * connector (src/connector/). Each bus gets a BusEndpoint the first time a guest is
 * started on it; from then on links and unlinks on that bus become DEVADD / DEVDROP
 * for its guests, and every guest is a member of the bus (`/sys/vbus/instances/B/members`).
 *
 * A guest that exits or crashes leaves the bus: its connections are closed, its regions
 * returned, and its member (with any children) removed, so the bus can be torn down.
 * A member removed by the admin (`echo 0 > /proc/ID/vbus`) has its worker terminated.
 */
import { vbusError } from '../errors.js';
import { BusEndpoint, type BusEndpointOptions, type BusResetReport, type ConnFaultReport } from '../connector/bus-endpoint.js';
import { BackendProxy } from '../connector/backend/backend-proxy.js';
import { backendRunner } from '../connector/backend/runner.js';
import { ServeGroup } from '../connector/serve-group.js';
import { startGuest, GuestWorker, type ParkedWorker } from '../connector/spawn-guest.js';
import type { ConnectorModel } from '../connector/types.js';
import type { Bus } from './bus.js';
import type { Device } from './device.js';
import type { VbusHost } from './host.js';
import type { Link } from './link.js';
import type { Member } from './member.js';

export interface SpawnGuestOptions {
  /** Passed to the guest as `guest.data` (structured clone). */
  data?: unknown;
  /** Passed to the guest as `guest.resumed`: its state from a saved bus (src/snapshot). */
  resume?: unknown;
  /** A saved bus's guest: its connector's state (connections to take back, src/guest/resume.ts). */
  resumeConnector?: unknown;
  /** Worker name (debuggers, errors). */
  name?: string;
  /** Member id to use (default: the next free one). */
  id?: number;
  /** Start as a child of this member or guest: it inherits the parent's bus. */
  parent?: Member | GuestWorker;
  /**
   * Whether this guest's synchronous calls take call turns with the process's other busy
   * guests (README "Many guests"). Default true; its children inherit it.
   */
  callTurns?: boolean;
}

/** Every key of SpawnGuestOptions (the compiler checks the list is complete): spawnGuest refuses others. */
export const SPAWN_GUEST_OPTION_KEYS: readonly string[] = Object.keys({
  data: true, resume: true, resumeConnector: true, name: true, id: true, parent: true, callTurns: true,
} satisfies Record<keyof SpawnGuestOptions, true>);

/** Share keys of devices whose backend model spans their buses (one model per device, see BackendModelSpec.shared). */
const shareKeys = new WeakMap<Device, number>();
let nextShareKey = 1;

function shareKeyOf(device: Device): number {
  let k = shareKeys.get(device);
  if (k === undefined) { k = nextShareKey++; shareKeys.set(device, k); }
  return k;
}

interface BusState {
  endpoint: BusEndpoint;
  proxies: Map<number, BackendProxy>;
}

export class HostConnector {
  private readonly states = new Map<Bus, BusState>();
  /** Attribute-change subscriptions of backend proxies, dropped when the proxy stops. */
  private readonly attrSubs = new Map<BackendProxy, () => void>();
  private readonly guests = new Map<number, GuestWorker>();
  private readonly unsubscribe: Array<() => void> = [];
  /** One serve loop for every bus of this host (one wake-up serves them all). */
  private readonly group = new ServeGroup();
  /** Stops started by host events (a member left, a bus went, a device was unplugged), awaited by release(). */
  private readonly stopping = new Set<Promise<unknown>>();
  /** Whether this host placed a backend (then release() lets the backend pool's threads end). */
  private startedBackends = false;

  constructor(private readonly host: VbusHost, private readonly opts: BusEndpointOptions = {}) {
    const ev = host.events;
    this.unsubscribe.push(
      ev.on('link', (link: Link) => this.onLink(link)),
      ev.on('unlink', (link: Link) => this.onUnlink(link)),
      ev.on('member-leave', (m: Member) => this.onMemberLeave(m)),
      ev.on('bus-destroy', (bus: Bus) => { this.track(this.dropBus(bus)); }),
    );
  }

  /** The bus's endpoint, created (and started) on first use. */
  endpoint(bus: Bus): BusEndpoint {
    let st = this.states.get(bus);
    if (!st) {
      const endpoint = new BusEndpoint(bus.memory, bus.name, {
        group: this.group,
        onConnFault: (f) => { const d = bus.deviceById(f.deviceId); if (d) this.host.events.emit('device-fault', d, f); },
        ...this.opts,
      });
      st = { endpoint, proxies: new Map() };
      this.states.set(bus, st);
      try {
        for (const { id, device } of bus.devices()) this.addDevice(st, bus, id, device);
      } catch (e) {
        this.states.delete(bus);
        for (const p of st.proxies.values()) this.track(this.stopProxy(p)); // the devices placed before the failure
        void endpoint.release();
        throw e;
      }
      endpoint.start();
    }
    return st.endpoint;
  }

  /** Starts a guest worker on `bus` (see VbusHost.spawnGuest); `parked`: a worker started ahead for it (src/migrate). */
  spawnGuest(bus: Bus, url: URL, opts: SpawnGuestOptions = {}, parked?: ParkedWorker): GuestWorker {
    if (!bus.isAlive) throw vbusError('ENOENT', `bus ${bus.name} was destroyed`, { bus: bus.name });
    const parent = opts.parent instanceof GuestWorker ? this.host.member(opts.parent.memberId) : opts.parent;
    if (opts.parent && !parent) throw vbusError('ENOENT', 'the parent guest is no longer a member', {});
    if (parent && parent.bus !== bus) {
      throw vbusError('EINVAL', `a child inherits its parent's bus (${parent.bus?.name}), not ${bus.name}`, { bus: bus.name });
    }
    const endpoint = this.endpoint(bus);
    const member = this.host.join(bus, { ...(parent ? { parent } : {}), ...(opts.id !== undefined ? { id: opts.id } : {}) });
    const noTurns = opts.callTurns === false ? { callTurns: false } : {}; // children inherit the opt-out
    let g: GuestWorker;
    try {
      g = startGuest(endpoint, member.id, url, {
        ...(opts.data !== undefined ? { data: opts.data } : {}),
        ...(opts.resume !== undefined ? { resume: opts.resume } : {}),
        ...(opts.resumeConnector !== undefined ? { resumeConnector: opts.resumeConnector } : {}),
        ...(opts.name !== undefined ? { name: opts.name } : {}),
        ...noTurns,
        ...(parked ? { parked } : {}),
        onSpawnChild: (childUrl, data, name) => this.spawnGuest(bus, childUrl, { parent: member, data, ...(name ? { name } : {}), ...noTurns }).memberId,
        onExit: () => {
          this.guests.delete(member.id);
          if (member.isAlive) this.host.leave(member);
        },
        onError: (error, handled) => {
          const heard = handled || this.host.events.listenerCount('guest-error') > 0;
          this.host.events.emit('guest-error', g, error);
          // Nobody listened: say it, rather than let a guest fail silently.
          if (!heard) console.error(`[vbus] ${error.message}`);
        },
      });
    } catch (e) {
      this.host.leave(member);
      throw e;
    }
    this.guests.set(member.id, g);
    return g;
  }

  /**
   * Resets the bus's connector regions without destroying it (BusEndpoint.resetBus). A
   * bus no guest was ever started on has nothing to reset: all counts 0.
   */
  resetBus(bus: Bus): BusResetReport {
    if (!bus.isAlive) throw vbusError('ENOENT', `bus ${bus.name} was destroyed`, { bus: bus.name });
    return this.states.get(bus)?.endpoint.resetBus() ?? { callsEnded: 0, members: 0, connections: 0 };
  }

  /** The faulted connections of `device` on every bus it is linked to (the host checks them now). */
  deviceFaults(device: Device): ConnFaultReport[] {
    const out: ConnFaultReport[] = [];
    for (const l of device.links()) out.push(...(this.states.get(l.bus)?.endpoint.deviceFaults(l.id) ?? []));
    return out;
  }

  /** Running guests. */
  runningGuests(): GuestWorker[] { return [...this.guests.values()]; }

  /** The guest worker of member `id`, if it runs one. */
  guest(id: number): GuestWorker | undefined { return this.guests.get(id); }

  /**
   * Terminates every guest, stops every endpoint and backend, and waits for the stops
   * host events started. The host's objects stay (VbusHost.release() removes them).
   */
  async release(): Promise<void> {
    await Promise.all([...this.guests.values()].map((g) => g.terminate()));
    this.guests.clear();
    await Promise.all([...this.states.keys()].map((b) => this.dropBus(b)));
    while (this.stopping.size > 0) await Promise.all([...this.stopping]);
    // The pool's idle threads would otherwise linger until its idle timeout; it closes
    // only when no backend of any host runs, and the next backend starts a new one.
    if (this.startedBackends) await backendRunner().close();
  }

  private track(p: Promise<unknown>): void {
    const done = p.catch(() => undefined).finally(() => this.stopping.delete(done));
    this.stopping.add(done);
  }

  private addDevice(st: BusState, bus: Bus, id: number, device: Device): void {
    const iface = device.interfaceType;
    if (!iface) return;
    let model: ConnectorModel = device.model ?? {};
    let placement: BackendProxy | undefined;
    if (device.placement === 'backend') {
      const spec = device.deviceClass!.backend!(device);
      const proxy = new BackendProxy(bus.memory, bus.name, id, spec, st.endpoint.slotPayload, {
        pin: device.pinned, owner: this.host, ...(spec.shared ? { share: shareKeyOf(device) } : {}),
      });
      this.startedBackends = true;
      st.proxies.set(id, proxy);
      // The host model hears attribute writes from the Device; the backend's model hears them through its proxy.
      this.attrSubs.set(proxy, device.onAttrChange((name, value) => proxy.attrChanged(name, value)));
      model = placement = proxy;
    }
    st.endpoint.addDevice(id, iface, model, placement);
  }

  private onLink(link: Link): void {
    const st = this.states.get(link.bus);
    if (st) this.addDevice(st, link.bus, link.id, link.device);
  }

  private onUnlink(link: Link): void {
    const st = this.states.get(link.bus);
    if (!st) return;
    if (st.endpoint.deviceIds().includes(link.id)) st.endpoint.removeDevice(link.id);
    const proxy = st.proxies.get(link.id);
    if (proxy) { st.proxies.delete(link.id); this.track(this.stopProxy(proxy)); }
  }

  private onMemberLeave(m: Member): void {
    const g = this.guests.get(m.id);
    if (!g) return;
    this.guests.delete(m.id);
    const st = [...this.states.values()].find((s) => s.endpoint.memberIds().includes(m.id));
    if (st) st.endpoint.removeMember(m.id);
    this.track(g.terminate());
  }

  private stopProxy(proxy: BackendProxy): Promise<unknown> {
    this.attrSubs.get(proxy)?.();
    this.attrSubs.delete(proxy);
    return proxy.stop();
  }

  private async dropBus(bus: Bus): Promise<void> {
    const st = this.states.get(bus);
    if (!st) return;
    this.states.delete(bus);
    await Promise.all([...st.proxies.values()].map((p) => this.stopProxy(p)));
    await st.endpoint.release();
  }
}

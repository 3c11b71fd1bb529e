/**
 * The typed view of a `venet-switch`'s external ports ({@link venetSwitch}). Every
 * change goes through the `ports` attribute, so the admin view, topology files and this
 * API can never disagree.
 */
import type { Device } from '../../host/device.js';
import { vbusError } from '../../errors.js';
import { switchModelOf } from './class.js';
import { formatSwitchPorts, parseSwitchPorts, type ExternalPortCounters } from './switch-ports.js';
import type { ExternalPort } from './switch-ports.js';

/** One external port, as the typed API shows it. */
export class SwitchPortControl {
  /** @internal */
  constructor(private readonly port: ExternalPort) {}
  get name(): string { return this.port.name; }
  /** The endpoint text: the bound address while open (port filled in), else the configured one. */
  get endpoint(): string { return this.port.link.address; }
  /** The admin's switch for this port. */
  get enabled(): boolean { return this.port.link.enabled; }
  /** True while frames can flow (enabled and the socket bound or connected). */
  get linkUp(): boolean { return this.port.up; }
  /** The latest socket error, or null. */
  get lastError(): Error | null { return this.port.link.lastError; }
  counters(): ExternalPortCounters { return this.port.counters(); }
  /** Resolves with the endpoint once the socket is ready; rejects with its error or ETIMEDOUT. */
  whenOpen(timeoutMs?: number): Promise<string> { return this.port.link.whenOpen(timeoutMs); }
}

export class VenetSwitchControl {
  /** @internal */
  constructor(readonly device: Device) {}

  private model() {
    const m = switchModelOf(this.device);
    if (!m) throw vbusError('ENODEV', `device ${this.device.name} is not a venet-switch any more`, { device: this.device.name });
    return m;
  }

  /** The external ports, in configuration order. */
  ports(): SwitchPortControl[] { return this.model().externalPorts().map((p) => new SwitchPortControl(p)); }

  /** External port `name`; ENOENT if there is none. */
  port(name: string): SwitchPortControl {
    const p = this.model().external(name);
    if (!p) throw vbusError('ENOENT', `venet-switch ${this.device.name} has no external port ${JSON.stringify(name)} (see its ports attribute)`, { device: this.device.name, port: name });
    return new SwitchPortControl(p);
  }

  /** Adds (or replaces) external port `name` on `endpoint` (venet-tap's ifname syntax), enabled. */
  addPort(name: string, endpoint: string, enabled = true): SwitchPortControl {
    const specs = parseSwitchPorts(this.device.attr('ports')).filter((p) => p.name !== name);
    specs.push(...parseSwitchPorts(`${name} ${endpoint} enabled=${enabled ? 1 : 0}`));
    this.device.setAttr('ports', formatSwitchPorts(specs));
    return this.port(name);
  }

  /** Removes external port `name` (its socket closes); ENOENT if there is none. */
  removePort(name: string): void {
    this.port(name);
    this.device.setAttr('ports', formatSwitchPorts(parseSwitchPorts(this.device.attr('ports')).filter((p) => p.name !== name)));
  }

  /** Enables or disables external port `name` (its socket opens or closes; the port number stays). */
  setPortEnabled(name: string, enabled: boolean): void {
    this.port(name);
    const specs = parseSwitchPorts(this.device.attr('ports')).map((p) => (p.name === name ? { ...p, enabled } : p));
    this.device.setAttr('ports', formatSwitchPorts(specs));
  }
}

/** The typed control of venet-switch `device`. ENODEV if it is not a typed venet-switch. */
export function venetSwitch(device: Device): VenetSwitchControl {
  if (!switchModelOf(device)) throw vbusError('ENODEV', `device ${device.name} is not a venet-switch (type it venet-switch first)`, { device: device.name });
  return new VenetSwitchControl(device);
}

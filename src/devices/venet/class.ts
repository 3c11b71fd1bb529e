/**
 * The venet device classes: their attributes (shared by every venet class) and specs.
 *
 * Counters and `negotiated` are read from the device's host-private shared counter block
 * (stats.ts), which the model updates in the host thread or in a backend worker alike.
 */
import type { AttributeSpec } from '../../host/attributes.js';
import type { DeviceClassSpec } from '../../host/device-class.js';
import type { Device } from '../../host/device.js';
import { VENET_INTERFACE, featuresToText } from './abi.js';
import { VENET_INITIAL_ATTRS, parseEnabled, parseFeatures, parseMac, parseIfname, parseMtu } from './config.js';
import { createModel as createLoopback } from './loopback-model.js';
import type { VenetInit } from './model-base.js';
import { STAT_ATTRS, STAT_NEGOTIATED, createStatsBuffer, readStat } from './stats.js';
import { SWITCH_DEFAULT_AGEING_MS, createModel as createSwitch, type VenetSwitchModel } from './switch-model.js';
import { formatSwitchPorts, parseSwitchPorts } from './switch-ports.js';
import { vbusError } from '../../errors.js';
import { venetState } from './state.js';

/** Each venet device's counter block, by device (host side). */
const statsOf = new WeakMap<Device, SharedArrayBuffer>();

function statsBuffer(device: Device): SharedArrayBuffer {
  let b = statsOf.get(device);
  if (!b) { b = createStatsBuffer(); statsOf.set(device, b); }
  return b;
}

/** The settable attribute names every venet class has. */
export const VENET_CONFIG_ATTRS = ['enabled', 'client_mac', 'host_mac', 'ifname', 'mtu', 'features_cap'] as const;

/** Attributes every venet class declares (config, then read-only counters). */
export function venetAttributes(): AttributeSpec[] {
  const a = VENET_INITIAL_ATTRS;
  const specs: AttributeSpec[] = [
    { name: 'enabled', mode: 'rw', initial: a.enabled!, parse: parseEnabled },
    { name: 'client_mac', mode: 'rw', initial: a.client_mac!, parse: parseMac },
    { name: 'host_mac', mode: 'rw', initial: a.host_mac!, parse: parseMac },
    { name: 'ifname', mode: 'rw', initial: a.ifname!, parse: parseIfname },
    { name: 'mtu', mode: 'rw', initial: a.mtu!, parse: parseMtu },
    { name: 'features_cap', mode: 'rw', initial: a.features_cap!, parse: parseFeatures },
    { name: 'negotiated', mode: 'ro', show: (d) => featuresToText(Number(readStat(statsBuffer(d), STAT_NEGOTIATED))) },
  ];
  for (const [name, index] of STAT_ATTRS) {
    specs.push({ name, mode: 'ro', show: (d) => String(readStat(statsBuffer(d), index)) });
  }
  return specs;
}

/** The model's start data from a device's current attributes. */
export function venetInit(device: Device, extra: readonly string[] = []): VenetInit {
  const attrs: Record<string, string> = {};
  for (const n of [...VENET_CONFIG_ATTRS, ...extra]) attrs[n] = device.attr(n);
  return { attrs, stats: statsBuffer(device) };
}

/** `venet-loopback`: returns every frame to its sender. Host or backend placement. */
export const venetLoopbackClass: DeviceClassSpec = {
  name: 'venet-loopback',
  interfaces: [VENET_INTERFACE],
  attributes: venetAttributes(),
  state: venetState,
  create: (device) => createLoopback(venetInit(device)),
  backend: (device) => ({
    modelUrl: new URL('./loopback-model.js', import.meta.url).href,
    modelExport: 'createModel',
    init: venetInit(device),
  }),
};

function parseAgeing(text: string): string {
  const t = text.trim();
  const n = /^\d+$/.test(t) ? Number(t) : NaN;
  if (!(n >= 1 && n <= 86_400_000)) throw vbusError('EINVAL', `ageing_ms ${JSON.stringify(text)} must be an integer between 1 and 86400000`, { value: text });
  return String(n);
}

const switchModels = new WeakMap<Device, VenetSwitchModel>();

/** The model of a typed venet-switch (for its typed control, switch-control.ts). */
export function switchModelOf(device: Device): VenetSwitchModel | undefined { return switchModels.get(device); }

/**
 * `venet-switch`: a MAC-learning layer-2 switch among every bus it is linked to. In
 * backend placement one model serves every bus it is linked to from one pool thread
 * (`shared`); external ports (`ports`, switch-ports.ts; `ports_state` shows them) and
 * the `fdb` view need host placement, where the sockets and the table live.
 */
export const venetSwitchClass: DeviceClassSpec = {
  name: 'venet-switch',
  interfaces: [VENET_INTERFACE],
  attributes: [
    ...venetAttributes(),
    { name: 'ageing_ms', mode: 'rw', initial: String(SWITCH_DEFAULT_AGEING_MS), parse: parseAgeing },
    { name: 'fdb', mode: 'ro', show: (d) => switchModels.get(d)?.fdbText() ?? '' },
    { name: 'ports', mode: 'rw', initial: '', parse: (t) => formatSwitchPorts(parseSwitchPorts(t)) },
    { name: 'ports_state', mode: 'ro', show: (d) => (switchModels.get(d)?.externalPorts() ?? []).map((p) => p.stateLine()).join('\n') },
  ],
  state: venetState,
  create: (device) => {
    const m = createSwitch({ ...venetInit(device, ['ageing_ms', 'ports']), name: device.name });
    switchModels.set(device, m);
    return m;
  },
  backend: (device) => {
    if (device.attr('ports') !== '') {
      throw vbusError('ENOTSUP', `venet-switch ${device.name} has external ports (ports '${device.attr('ports')}'): their sockets live in the host thread, so place it in 'host' or clear ports`, { device: device.name });
    }
    return {
      modelUrl: new URL('./switch-model.js', import.meta.url).href,
      modelExport: 'createModel',
      init: { ...venetInit(device, ['ageing_ms']), name: device.name },
      shared: true,
    };
  },
};

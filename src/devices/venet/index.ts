/**
 * The virtual-ethernet device family: the ABI, the guest driver, the shared device-side
 * machinery and the classes (venet-loopback, venet-switch, venet-tap).
 */
import type { VbusHost } from '../../host/host.js';
import { venetLoopbackClass, venetSwitchClass } from './class.js';
import { venetTapClass } from './tap-class.js';

export * from './abi.js';
export { VenetDriver, openVenet } from './driver.js';
export type { VenetOptions, FrameListener, FrameSpanListener, LinkListener, ReceivedFrame } from './driver.js';
export { VenetQueue, attachVenetQueue } from './queue.js';
export type { VenetQueueHandle } from './queue.js';
export { VenetModelBase, VenetPort, VenetQueuePair, PAIR_BUDGET, DELIVERED, NO_ROOM, DROPPED } from './model-base.js';
export type { VenetInit } from './model-base.js';
export { VenetLoopbackModel } from './loopback-model.js';
export { VenetSwitchModel, SWITCH_DEFAULT_AGEING_MS } from './switch-model.js';
export type { SwitchInit } from './switch-model.js';
export { VenetStats, createStatsBuffer, readStat, STAT_ATTRS } from './stats.js';
export { configFromAttrs, featureBits, VENET_INITIAL_ATTRS } from './config.js';
export type { VenetConfig } from './config.js';
export { venetLoopbackClass, venetSwitchClass, venetAttributes, venetInit, VENET_CONFIG_ATTRS } from './class.js';
export { venetTapClass, venetTap, VenetTapControl } from './tap-class.js';
export { venetSwitch, VenetSwitchControl, SwitchPortControl } from './switch-control.js';
export { parseSwitchPorts, formatSwitchPorts, SWITCH_MAX_EXTERNAL_PORTS } from './switch-ports.js';
export type { ExternalPortSpec, ExternalPortCounters } from './switch-ports.js';
export { TapLink } from './tap-link.js';
export type { TapLinkEvents } from './tap-link.js';
export type { VenetCounterName } from './tap-class.js';
export { VenetTapModel, TAP_FEATURES } from './tap-model.js';
export type { VenetTapInit } from './tap-model.js';
export { parseTapEndpoint, formatTapEndpoint, TAP_DEFAULT_ENDPOINT } from './tap-endpoint.js';
export type { TapEndpoint } from './tap-endpoint.js';
export { StreamFrameDecoder, writeStreamPrefix, STREAM_PREFIX_BYTES } from './stream-framing.js';
export type { StreamFrameSink } from './stream-framing.js';
export { installTapTransport, hasTapTransport, tapTransport, TAP_SENT, TAP_BUSY, TAP_LOST } from './tap-transport.js';
export type { TapTransport, TapTransportEvents, TapTransportFactory } from './tap-transport.js';

/** Registers venet-loopback, venet-switch and venet-tap with `host` (a venet-tap refuses to be typed where there are no sockets). */
export function registerVenetClasses(host: VbusHost): void {
  host.registerClass(venetLoopbackClass);
  host.registerClass(venetSwitchClass);
  host.registerClass(venetTapClass);
}
export { venetState, VENET_STATE_VERSION } from './state.js';

/**
 * The virtual-ethernet device family: the ABI, the guest driver, the shared device-side
 * machinery and the classes (venet-loopback, venet-switch).
 */
import type { VbusHost } from '../../host/host.js';
import { venetLoopbackClass, venetSwitchClass } from './class.js';

export * from './abi.js';
export { VenetDriver, openVenet } from './driver.js';
export type { VenetOptions, FrameListener, LinkListener, ReceivedFrame } from './driver.js';
export { VenetModelBase, VenetPort, DELIVERED, NO_ROOM, DROPPED } from './model-base.js';
export type { VenetInit } from './model-base.js';
export { VenetLoopbackModel } from './loopback-model.js';
export { VenetSwitchModel, SWITCH_DEFAULT_AGEING_MS } from './switch-model.js';
export type { SwitchInit } from './switch-model.js';
export { VenetStats, createStatsBuffer, readStat, STAT_ATTRS } from './stats.js';
export { configFromAttrs, featureBits, VENET_INITIAL_ATTRS } from './config.js';
export type { VenetConfig } from './config.js';
export { venetLoopbackClass, venetSwitchClass, venetAttributes, venetInit, VENET_CONFIG_ATTRS } from './class.js';

/** Registers venet-loopback and venet-switch with `host`. */
export function registerVenetClasses(host: VbusHost): void {
  host.registerClass(venetLoopbackClass);
  host.registerClass(venetSwitchClass);
}

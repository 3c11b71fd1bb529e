/** vconsole: the virtual-console device class, its model, endpoints and guest driver. */
export * as consoleAbi from './abi.js';
export { CONSOLE_INTERFACE } from './abi.js';
export { vconsoleClass, VCONSOLE_CLASS } from './class.js';
export { ConsoleModel, createConsoleModel } from './model.js';
export type { ConsoleCounters } from './model.js';
export { installConsoleEndpoints, consoleEndpointKinds, checkEndpointSpec } from './endpoint.js';
export type { ConsoleEndpoint, EndpointSink, EndpointOpener, EndpointChecker } from './endpoint.js';
export { ConsoleMemoryEndpoint, MEMORY_OUTPUT_LIMIT } from './memory-endpoint.js';
export { openConsole, GuestConsole } from './driver.js';
export type { ConsoleOptions } from './driver.js';
export { vconsoleState, VCONSOLE_STATE_VERSION } from './state.js';

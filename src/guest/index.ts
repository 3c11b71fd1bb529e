export { GuestConnector } from './connector.js';
export type { GuestDevice, Driver, DeviceEvent } from './connector.js';
export { Connection, failIfNegative, type ConnectionStatus, type ConnectionFaultEvent } from './connection.js';
export { CallClient } from './call-client.js';
export type { CallOptions, Request } from './call-client.js';
export { SharedBuffer } from './shm.js';
export { joinBus, Guest } from './join.js';
export type { GuestStartData, GuestControlMessage } from './join.js';

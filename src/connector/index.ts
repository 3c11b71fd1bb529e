export { BusEndpoint, memberBytes, BUS_CONNECTOR_BYTES } from './bus-endpoint.js';
export type { BusEndpointOptions } from './bus-endpoint.js';
export { DecodeTables } from './decode-tables.js';
export { startGuest, GuestWorker } from './spawn-guest.js';
export type { StartGuestOptions } from './spawn-guest.js';
export type { GuestBoot, ShmRegion, DeviceConnection, ConnectorModel } from './types.js';
export * as wire from './wire.js';
export { DeviceRxQueue, DeviceTxQueue, deviceBuffer, findQueue } from './device-queues.js';

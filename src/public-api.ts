/**
 * The names `vbus` and `vbus/browser` export: what a program needs to build hosts and
 * guests, write device classes and drivers, use the devices that ship, and save,
 * record or administer them. Both entry points re-export exactly this list (so they
 * cannot drift apart); everything else (wire offsets, the connector's slot server and
 * decode tables, queue layouts, backend protocol, platform installers the entries call
 * themselves) is reachable only through `internal.ts`, which the package's `exports` map
 * does not list. Adding a name here makes it API: README.md must document it
 * (test/public-api.test.ts checks every exported name appears there).
 */

// Errors.
export { VbusError, vbusError, isVbusError, errnoName, ERRNO, STRERROR } from './errors.js';
export type { ErrnoCode } from './errors.js';

// The host: buses, devices, classes, members, guest workers.
export { VbusHost, Bus, Device, DeviceClass, Member, NAME_MAX } from './host/index.js';
export type {
  CreateBusOptions, JoinOptions, HostStats, HostEvents, VbusHostOptions, BusEvents, DeviceEvents,
  DeviceClassSpec, DeviceModel, AttributeSpec, Link, BusRegion, Emitter, EventMap, HostConnector, SpawnGuestOptions,
} from './host/index.js';
export { GuestWorker, deviceConsumer, deviceProducer, deviceBuffer, findQueue } from './connector/index.js';
export type {
  GuestExit, DevicePlacement, ShmRegion, DeviceConnection, ConnectorModel, BackendModelSpec, DeviceFault,
  ConnFaultReport, BusResetReport,
} from './connector/index.js';

// The guest side (inside a worker).
export { joinBus, Guest, Connection, SharedBuffer } from './guest/index.js';
export type { GuestDevice, Driver, DeviceEvent, CallOptions, ConnectionStatus, ConnectionFaultEvent } from './guest/index.js';

// The core: bus memory, rings and signals, for programs that use rings directly.
export {
  BusMemory, MAX_BUS_BYTES, createRing, destroyRing, ringMaxPayload, RingProducer, RingConsumer, IovList,
  forEachPacked, createSignal, destroySignal, Notifier, Waiter, serveSync, serveAsync, ProducerEnd, ConsumerEnd, AdaptiveSpin, Status, FaultReason, faultText,
  statusName, loadCoreModule, loadMessageCoreModule,
} from './core/index.js';
export type { BusMemoryOptions, BusTransport, RingDescriptor, WaitResult, SignalStats, SpinPolicy, ServeLoop } from './core/index.js';

// The admin path view.
export { adminView, AdminView } from './admin/index.js';

// Workers and shared memory, the same on Node and in browsers.
export { spawnWorker, workerContext, checkSharedMemory, isCrossOriginIsolated, ISOLATION_HEADERS } from './platform/index.js';
export type { PlatformWorker, SpawnOptions, WorkerContext, SharedMemoryNeeds } from './platform/index.js';

// The message transport (buses without SharedArrayBuffer).
export { syncSetup, messageStats } from './transport/index.js';
export type { MirrorStats } from './transport/index.js';

// The devices that ship: classes, their guest drivers, control handles, and the hooks
// that give them files, sockets and endpoints where the platform has none.
export {
  SHIPPED_CLASSES, registerVenetClasses, venetLoopbackClass, venetSwitchClass, venetTapClass, vdiskClass,
  vconsoleClass, vrngClass,
  VENET_INTERFACE, VDISK_INTERFACE, CONSOLE_INTERFACE, ENTROPY_INTERFACE,
  openVenet, VenetDriver, openVdisk, VdiskDriver, openConsole, GuestConsole, openRng, GuestRng,
  attachVenetQueue, VenetQueue, attachVdiskQueue, VENET_F_MQ, VDISK_F_MQ,
  ETH_HEADER_BYTES, ETH_ALEN, VENET_F_CSUM, VENET_F_TX_DONE, VENET_F_ALL, macToText, macFromText,
  venetTap, VenetTapControl, venetSwitch, VenetSwitchControl,
  installVdiskFiles, installTapTransport, installConsoleEndpoints,
} from './devices/index.js';
export type {
  VenetOptions, FrameListener, FrameSpanListener, LinkListener, ReceivedFrame, VdiskOptions, VdiskDriverStats, ConsoleOptions,
  VenetQueueHandle, VdiskQueueHandle,
  ConsoleModel, SwitchPortControl, VdiskFilePlatform, FileStoreRequest, BlockStore, TapTransport,
  TapTransportEvents, TapTransportFactory, TapEndpoint, ConsoleEndpoint, EndpointSink, EndpointOpener, EndpointChecker,
} from './devices/index.js';

// Device state, bus snapshots, recording and replay.
export {
  saveDeviceState, loadDeviceState, encodeDeviceState, decodeDeviceState, StateReader,
} from './state/index.js';
export type { DeviceState, DeviceStateSpec, StateValue } from './state/index.js';
export { saveBuses, restoreBuses } from './snapshot/index.js';
export type { SaveOptions, RestoreResult } from './snapshot/index.js';
export { recordDevice, replayRecording, encodeRecording, decodeRecording } from './record/index.js';
export type {
  DeviceRecorder, RecordOptions, ReplayOptions, ReplayResult, ReplayMismatch, Recording, Step, RecordableModel,
} from './record/index.js';

export { BusMemory, MAX_BUS_BYTES } from './bus-memory.js';
export type { BusMemoryOptions, BusTransport } from './bus-memory.js';
export { RegionAllocator } from './region-allocator.js';
export {
  createRing, formatRing, destroyRing, ringRegionBytes, ringMaxPayload, ringRecordBytes,
  RingProducer, RingConsumer, IovList, forEachPacked,
} from './ring.js';
export type { RingDescriptor } from './ring.js';
export { createSignal, destroySignal, readSignalStats, parkedWord, Notifier, Waiter, wakeSignal } from './signal.js';
export type { Recheck } from './signal.js';
export { ProducerEnd, ConsumerEnd } from './queue.js';
export type { QueueRegion } from './queue.js';
export { serveSync, serveAsync } from './serve-loop.js';
export type { ServeLoop } from './serve-loop.js';
export type { SignalStats, WaitResult } from './signal.js';
export { AdaptiveSpin, HANDOFF } from './adaptive-spin.js';
export type { SpinPolicy, PeerWord, SpinOutcome } from './adaptive-spin.js';
export { SpinGate, spinGate, STALE_CHECK_EVERY } from './spin-gate.js';
export { CallTurns, callTurns, callsPerTurn, turnHeld, turnHolder, TURN_IDLE_MS, TURN_LAYOUT, TURN_WORDS, TURN_SLOTS, TURN_CALLS, MIN_TURN_CALLS, ROUND_CALLS, TURN_MS, BUSY_GAP_MS, STALL_MS, MAX_TURN_WAIT_MS } from './call-turns.js';
export type { CallTurnsOptions, TurnStats } from './call-turns.js';
export { Status, FaultReason, faultText, statusName } from './status.js';
export { coreModule, loadCoreModule, adoptCoreModule, instantiateCore, coreWasmBytes, messageCoreModule, loadMessageCoreModule } from './core-module.js';
export type { CoreExports } from './core-module.js';

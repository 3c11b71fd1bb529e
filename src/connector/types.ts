/**
 * Message shapes of the connector, in one place: what the host hands a guest at start
 * (GuestBoot, GuestStartData) and the control messages between them
 * (GuestControlMessage), what a device model sees of a connection (DeviceConnection), the hooks a
 * device model implements for the connector (ConnectorModel), and shared regions.
 */
import type { BusMemory } from '../core/bus-memory.js';
import type { RingDescriptor } from '../core/ring.js';
import type { MirrorBoot } from '../transport/message-bus.js';

/** Everything a guest needs to join its bus. Plain data plus the memory and module: postable. */
export interface GuestBoot {
  /** The guest's own bus memory: the only bus memory it ever receives. */
  memory: WebAssembly.Memory;
  /** The compiled core, so the guest does not compile it again. */
  module: WebAssembly.Module;
  busName: string;
  memberId: number;
  /** Offset of the bus control region (pending bits). */
  busctl: number;
  /** Offset of the bus doorbell signal. */
  doorbell: number;
  /** This member's bit in the pending words (word = bit >> 5). */
  bit: number;
  /** Offset of this member's call slot and its payload capacity. */
  slot: number;
  slotPayload: number;
  /** Host -> guest event ring and its signal. */
  events: RingDescriptor;
  eventSignal: number;
  /** Deadline of a guest's call that names none, ms (see CallOptions.timeoutMs). */
  callTimeoutMs?: number;
  /** What the guest publishes while it holds the call turn, so the host spins on this bus (src/core/call-turns.ts). */
  turnKey?: number;
  /** False: this guest's calls never take call turns (src/core/call-turns.ts; spawnGuest's `callTurns`). */
  callTurns?: boolean;
  /** Data the spawner passed to the guest. */
  data?: unknown;
  /** A resumed guest's own saved state (src/snapshot), handed back by `guest.resumed`. */
  resume?: unknown;
  /** A resumed guest's connector state (its connections and drivers' state, src/guest/resume.ts). */
  resumeConnector?: unknown;
  /**
   * Message transport only: the guest's channel and the snapshot it builds its own copy
   * of the bus memory from (then `memory` is absent: a private memory cannot be posted).
   */
  mirror?: MirrorBoot;
}

/**
 * Start data the host gives a guest worker: its boot, or `vbusParked` for a worker
 * started before its membership exists (a migration's target starts the workers during
 * pre-copy, src/migrate/target.ts): it loads its module, and joinBus() waits for the
 * boot to arrive as a 'vbus:boot' message.
 */
export type GuestStartData = { vbusBoot: GuestBoot } | { vbusParked: true; bus?: ParkedBus };

/**
 * The bus a parked worker will join, when the host knows it ahead (a migration's target
 * made the bus before it parks the worker): the worker attaches to it (instantiates the
 * core over it) while it waits, so its boot does not.
 */
export interface ParkedBus { memory: WebAssembly.Memory; module: WebAssembly.Module }

/** Control messages between a guest worker and its host (not the data path). */
export type GuestControlMessage =
  | { type: 'vbus:spawn-child'; req: number; url: string; data?: unknown; name?: string }
  | { type: 'vbus:child'; req: number; memberId?: number; error?: { code: string; message: string } }
  /** The host asks the guest to exit (GuestWorker.stop): its onStop handlers run, then exit 0. */
  | { type: 'vbus:stop' }
  // Saving the bus (src/snapshot): host -> guest asks, guest -> host answers.
  // A save that was given up (a failed migration): 'vbus:continue' lets the guest carry on.
  | { type: 'vbus:quiesce' | 'vbus:save' | 'vbus:continue'; req: number }
  | { type: 'vbus:quiesced' | 'vbus:saved' | 'vbus:continued'; req: number; state?: unknown; connector?: unknown; error?: { code: string; message: string } }
  /**
   * Host -> a parked guest: its boot (the membership now exists). `sameBus`: the boot's
   * memory is the one the worker was parked with (ParkedBus; the host compares the
   * objects, the worker cannot: each message gives it a new Memory object).
   */
  | { type: 'vbus:boot'; boot: GuestBoot; sameBus?: boolean }
  /** A parked guest -> host: its module has loaded and joinBus() waits for the boot. */
  | { type: 'vbus:parked' }
  /**
   * Guest -> host, once per run: joinBus() resolved and the program ran on to its first
   * wait (posted from the first macrotask after the join), so it serves again.
   */
  | { type: 'vbus:joined' };

/** A shared region set up by DEVSHM. */
export interface ShmRegion {
  /** Per-connection id the guest uses in SHMSIGNAL. */
  id: number;
  /** Queue number the guest asked for (device ABI defines what each queue is). */
  queue: number;
  /** SHM_RING_TO_DEVICE, SHM_RING_TO_GUEST or SHM_BUFFER. */
  kind: number;
  /** Region offset in the bus memory (a ring region for rings, the data for a buffer). */
  offset: number;
  /** Ring capacity or buffer bytes. */
  bytes: number;
  /** Signal raised by the producer when it publishes data (0 for a buffer). */
  dataSignal: number;
  /** Signal raised by the consumer when it frees space (0 for a buffer). */
  spaceSignal: number;
}

/** What a device model sees of one open connection (a guest's DEVOPEN). */
export interface DeviceConnection {
  /** Host-unique id of this connection (for maps in models). */
  readonly id: number;
  /** The bus memory of the bus this connection came through. */
  readonly memory: BusMemory;
  readonly busName: string;
  readonly memberId: number;
  /** Device id on that bus. */
  readonly deviceId: number;
  /** Interface version the guest asked for in DEVOPEN. */
  readonly version: number;
  /** Regions set up by DEVSHM so far. */
  readonly shms: readonly ShmRegion[];
  /** False once the guest closed, left, or the device was unplugged. */
  readonly open: boolean;
  /** Posts a device event (DEVEVENT) to the guest of this connection. Returns false if its event ring is full. */
  postEvent(code: number, arg?: number): boolean;
}

/**
 * The hooks a device model implements for the connector. All optional: a model without
 * `call` answers every DEVCALL with ENOSYS.
 */
export interface ConnectorModel {
  /** A guest opened the device. Throw a VbusError to refuse (e.g. ENOTSUP for an unknown version). */
  open?(conn: DeviceConnection): void;
  /**
   * DEVCALL `func` with `payload` (a view of the call slot: the guest can still write it,
   * so copy what you validate). Write the reply into `out` (same slot area: read the
   * request first) and return its length (>= 0), or a negative errno, or throw a
   * VbusError. May return a promise for work that completes later.
   */
  call?(conn: DeviceConnection, func: number, payload: Uint8Array, out: Uint8Array): number | Promise<number>;
  /** A shared region was set up. Throw a VbusError to refuse it. */
  shm?(conn: DeviceConnection, region: ShmRegion): void;
  /**
   * Work may be waiting on this connection's rings: a guest-to-device ring's data signal
   * or a device-to-guest ring's space signal fired. Drain what you can and return the
   * number of records handled (the runtime keeps calling while it returns > 0 or the
   * rings still hold data). Called from the host event loop, or from a backend worker's
   * loop when the device runs there.
   */
  poll?(conn: DeviceConnection): number;
  /** SHMSIGNAL for `region` (the slow path; rings normally signal through their own signals). */
  signal?(conn: DeviceConnection, region: ShmRegion): void;
  /** The connection is gone (DEVCLOSE, guest exit, or unplug). */
  close?(conn: DeviceConnection): void;
  /**
   * True once the model stopped this connection because one of its rings was corrupt
   * (its ring ends are sticky). The host then marks the connection NEEDS_RESET even if
   * the ring memory looks right again. A reset replays close/open/shm (conn-reset.ts).
   */
  faulted?(conn: DeviceConnection): boolean;
  /**
   * Saving a bus with its connections (src/snapshot): what this model keeps for the
   * connection beyond what open() and shm() set up again (negotiated features, queue
   * pairs granted), as state data; null or absent when nothing.
   */
  saveConnection?(conn: DeviceConnection): import('../state/codec.js').StateValue;
  /**
   * True for a region whose bytes mean nothing while no request is in flight (a data
   * buffer the driver copies through per request): a save at a safe point carries none
   * of it, and it is zero after the restore.
   */
  idleRegion?(conn: DeviceConnection, region: ShmRegion): boolean;
  /**
   * Restoring a saved connection: called after open() and before shm() is replayed for
   * each of its regions (whose rings keep their contents), with what saveConnection
   * returned. It comes from a file: check it, and throw a VbusError to refuse.
   */
  resumeConnection?(conn: DeviceConnection, saved: import('../state/codec.js').StateValue): void;
}

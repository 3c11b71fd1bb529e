/**
 * One queue pair for every ring a DEVSHM set up, used by both sides: whoever produces
 * into a ring holds its {@link ProducerEnd}, whoever consumes it holds its
 * {@link ConsumerEnd}. A guest's TX ring is a producer end in the guest and a consumer end
 * in the device; a device's completion ring the other way round. Each ring has two
 * shm-signals (./signal.ts), and the names say which way each kick goes:
 *
 *   producer end                                   consumer end
 *     ring.reserve / commit / push                   ring.peek / release / pop
 *     notifyData()  --- data signal: "records arrived" --->  dataWaiter (parks here)
 *     spaceWaiter (parks here)  <--- space signal: "space freed" ---  notifySpace()
 *
 * Rules 1 and 2 of src/core/ring.ts say when each kick is due (a FULL reserve notifies
 * data so the consumer can skip a wrap pad; a moved HEAD notifies space). A waiter is
 * made only when asked for (`spaceWaiter` / `dataWaiter`): a device model in the host
 * thread never parks on its rings (the runtime watches their signals for it).
 */
import type { BusMemory } from './bus-memory.js';
import { RingConsumer, RingProducer } from './ring.js';
import { Notifier, Waiter, type SpinPolicy } from './signal.js';

/** What a queue end needs of a ring region (a DEVSHM region, src/connector/types.ts ShmRegion, has it). */
export interface QueueRegion {
  /** Ring region offset in the bus memory. */
  readonly offset: number;
  /** Ring data capacity in bytes. */
  readonly bytes: number;
  /** Raised by the producer when it publishes records. */
  readonly dataSignal: number;
  /** Raised by the consumer when it frees space. */
  readonly spaceSignal: number;
}

/** The producing end of a ring: push records, then {@link notifyData}. */
export class ProducerEnd<R extends QueueRegion = QueueRegion> {
  readonly ring: RingProducer;
  private readonly data: Notifier;
  private waiter: Waiter | null = null;
  constructor(readonly bus: BusMemory, readonly region: R, private readonly spin?: SpinPolicy) {
    this.ring = new RingProducer(bus, { offset: region.offset, capacity: region.bytes });
    this.data = new Notifier(bus, region.dataSignal);
  }
  /**
   * Tells the consumer records arrived (after a commit, or after a FULL reserve: rule 1).
   * Returns true if a wake-up was raised, false when suppressed (the consumer is draining
   * or a wake-up is already pending).
   */
  notifyData(): boolean { return this.data.raise(); }
  /** A new end on the same region, after its owner re-formatted the ring (a reset: this end may be sticky-faulted). */
  renew(): ProducerEnd<R> { return new ProducerEnd(this.bus, this.region, this.spin); }
  /** The waiter for the consumer's "space freed" signal (made on first use, one thread at a time). */
  get spaceWaiter(): Waiter {
    return this.waiter ??= new Waiter(this.bus, this.region.spaceSignal, this.spin);
  }
}

/** The consuming end of a ring: pop or peek/release records, then {@link notifySpace}. */
export class ConsumerEnd<R extends QueueRegion = QueueRegion> {
  readonly ring: RingConsumer;
  private readonly space: Notifier;
  private waiter: Waiter | null = null;
  constructor(readonly bus: BusMemory, readonly region: R, private readonly spin?: SpinPolicy) {
    this.ring = new RingConsumer(bus, { offset: region.offset, capacity: region.bytes });
    this.space = new Notifier(bus, region.spaceSignal);
  }
  /**
   * Tells the producer space was freed (after a release, or whenever HEAD moved: rule 2).
   * Returns true if a wake-up was raised, false when suppressed.
   */
  notifySpace(): boolean { return this.space.raise(); }
  /** A new end on the same region, after its owner re-formatted the ring (a reset: this end may be sticky-faulted). */
  renew(): ConsumerEnd<R> { return new ConsumerEnd(this.bus, this.region, this.spin); }
  /** The waiter for the producer's "records arrived" signal (made on first use, one thread at a time). */
  get dataWaiter(): Waiter {
    return this.waiter ??= new Waiter(this.bus, this.region.dataSignal, this.spin);
  }
}

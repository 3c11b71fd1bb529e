/**
 * Shapes shared by every benchmark: the options a benchmark receives, the rows it
 * returns, and the file `bench/results/NAME.json` the runner writes.
 */

/** Where the two threads of a measurement ran. */
export type Placement = 'same-core' | 'different-cores' | 'unpinned';

/** Which placements a run asks for (`--placement`). */
export type PlacementRequest = 'same' | 'diff' | 'both';

/** One measurement (the median over its repeats). */
export interface Row {
  /** What was measured, e.g. `oneway-64B`, `rtt-signal`, `push-pop-16B`. */
  case: string;
  /** Which implementation ran it, e.g. `vbus-batched`, `postMessage`. */
  impl: string;
  /** Payload bytes per record (0 for a bare signal). */
  bytes: number;
  /** Records (or round trips) per second. */
  opsPerSec: number;
  /** Payload megabytes (10^6) per second. */
  mbPerSec?: number;
  /** Round-trip latency percentiles, microseconds. */
  p50us?: number;
  p99us?: number;
  /** Where the threads ran; single-thread rows say `unpinned` and `threads: 1`. */
  placement: Placement;
  /** Threads involved (1 for single-thread micro rows). */
  threads: number;
  /** Repeats the median was taken over. */
  repeats: number;
  /** Best repeat's opsPerSec (the machine is shared and noisy; the median is the headline). */
  bestOpsPerSec?: number;
  /** Relative spread of opsPerSec over the repeats: (max - min) / median. */
  spread?: number;
  /** Free-form note: batch size, consumer mode, ... */
  note?: string;
}

/** Options every benchmark's `run` receives. */
export interface BenchOptions {
  /** Tiny counts, one repeat: a smoke run that checks that everything works. */
  quick: boolean;
  /** Repeats per measurement; the row reports the median. */
  repeat: number;
  /** Which placements latency rows are measured in. */
  placement: PlacementRequest;
  /** Only measurements whose `case impl` matches (`--only REGEX`); everything when absent. */
  only?: RegExp;
  /** A recording to replay (`--recording FILE`; the replay benchmark). */
  recording?: string;
  /** Progress sink: called with a short status line. */
  progress: (done: number, total: number, label: string) => void;
}

/** A benchmark module, as registered in bench/registry.ts. */
export interface BenchModule {
  /** One line for `npm run bench -- --list`. */
  readonly description: string;
  /**
   * The impls the table's ratio columns compare against, per case prefix (first match
   * wins). Throughput ratios are opsPerSec / reference opsPerSec (higher is better);
   * latency ratios are p50 / reference p50 (lower is better). A reference row must have
   * the same case and placement (or be a single-thread row).
   */
  readonly references: ReadonlyArray<{ casePrefix: string; impls: readonly string[] }>;
  run(opts: BenchOptions): Promise<Row[]>;
}

export interface MachineInfo {
  cpus: number;
  model: string;
  node: string;
  os: string;
  date: string;
  /** 1/5/15-minute load averages when the run started: this VM is shared, and load explains noise. */
  loadavg: number[];
}

/** The JSON written to bench/results/NAME.json. */
export interface ResultFile {
  bench: string;
  machine: MachineInfo;
  /** Whether threads could be pinned (taskset); if not, every row is `unpinned`. */
  pinning: boolean;
  options: { quick: boolean; repeat: number; placement: PlacementRequest };
  rows: Row[];
}

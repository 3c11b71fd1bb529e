/** Messages between the vdisk bench and its guest worker (bench/vdisk/guest.ts). */

/** One measurement: `qd` requests of `bytes` kept in flight for `ms` milliseconds. */
export interface VdiskBenchCase {
  case: string;
  op: 'read' | 'write';
  pattern: 'random' | 'sequential';
  bytes: number;
  qd: number;
  ms: number;
  seed: number;
}

export type GuestCommand =
  | ({ cmd: 'measure' } & VdiskBenchCase)
  | { cmd: 'exit' };

export type GuestReply =
  | { event: 'ready'; capacity: number }
  | { event: 'result'; case: string; ops: number; seconds: number }
  | { event: 'error'; code: string; message: string };

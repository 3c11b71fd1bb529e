/**
 * Thread placement. A thread pins itself to one CPU: its kernel thread id is the last
 * component of the `/proc/thread-self` link (`PID/task/TID`), and util-linux `taskset
 * -pc CPU TID` sets that thread's affinity. Works from the main thread and from worker
 * threads alike (each reads its own link). Where either piece is missing (no /proc, no
 * taskset, a single CPU), pinning is reported as unavailable and benchmarks say
 * `unpinned`.
 */
import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import os from 'node:os';
import type { Placement, PlacementRequest } from './types.js';

let available: boolean | undefined;

/** The calling thread's kernel thread id, or -1 if /proc/thread-self is not readable. */
export function threadId(): number {
  try {
    const link = readlinkSync('/proc/thread-self'); // "PID/task/TID"
    const tid = Number(link.split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : -1;
  } catch {
    return -1;
  }
}

/** Whether this machine lets threads pin themselves (checked once). */
export function pinningAvailable(): boolean {
  if (available === undefined) {
    available = false;
    if (os.cpus().length >= 2 && threadId() > 0) {
      try {
        execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'pipe' });
        available = true;
      } catch {
        available = false;
      }
    }
  }
  return available;
}

/** Pins the calling thread to `cpu`. Returns false (and changes nothing) if it cannot. */
export function pinSelf(cpu: number): boolean {
  if (!pinningAvailable()) return false;
  const tid = threadId();
  try {
    execFileSync('taskset', ['-pc', String(cpu), String(tid)], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/** Lets the calling thread run on every CPU again. */
export function unpinSelf(): boolean {
  if (!pinningAvailable()) return false;
  try {
    execFileSync('taskset', ['-pc', `0-${os.cpus().length - 1}`, String(threadId())], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/** CPUs for (main, worker) in a placement. */
export function cpusFor(p: Placement): [number, number] | null {
  if (p === 'same-core') return [0, 0];
  if (p === 'different-cores') return [0, 1];
  return null;
}

/** The placements a request expands to on this machine. */
export function placementsFor(req: PlacementRequest): Placement[] {
  if (!pinningAvailable()) return ['unpinned'];
  if (req === 'same') return ['same-core'];
  if (req === 'diff') return ['different-cores'];
  return ['same-core', 'different-cores'];
}

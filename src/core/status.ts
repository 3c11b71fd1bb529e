/**
 * Status codes returned by the core's hot paths, from the shared layout file
 * (assembly/layout/status.ts), plus their names for messages.
 */
import * as S from '../../assembly/layout/status.js';

export const Status = {
  EMPTY: S.ST_EMPTY,
  FULL: S.ST_FULL,
  FAULT: S.ST_FAULT,
  TOO_BIG: S.ST_TOO_BIG,
  NOSPACE: S.ST_NOSPACE,
  BAD_MAGIC: S.ST_BAD_MAGIC,
  BAD_ARG: S.ST_BAD_ARG,
} as const;

export type StatusCode = (typeof Status)[keyof typeof Status];

export const FaultReason = {
  NONE: S.FAULT_NONE,
  INDEX: S.FAULT_INDEX,
  RECORD: S.FAULT_RECORD,
  HEADER: S.FAULT_HEADER,
  CURSOR: S.FAULT_CURSOR,
  MARKED: S.FAULT_MARKED,
} as const;

const FAULT_TEXT: Record<number, string> = {
  [S.FAULT_NONE]: 'none',
  [S.FAULT_INDEX]: "the peer's index is inconsistent (more than the capacity apart, or unaligned)",
  [S.FAULT_RECORD]: 'a record header runs past the published data or the ring end',
  [S.FAULT_HEADER]: "the ring's magic or capacity word was overwritten",
  [S.FAULT_CURSOR]: 'a private cursor is inconsistent with its published index',
  [S.FAULT_MARKED]: "the ring's fault word holds no known reason (overwritten)",
};

/**
 * A fault reason read from a ring's FAULT word (guest-writable) as one of the host's
 * own reasons: an unknown value becomes MARKED, so no text is ever built from it.
 */
export function knownFaultReason(word: number): number {
  return word >= S.FAULT_INDEX && word <= S.FAULT_CURSOR ? word : S.FAULT_MARKED;
}

/** Why a ring faulted, as a sentence from this table (a reason outside it reads as MARKED's). */
export function faultText(reason: number): string {
  return FAULT_TEXT[reason] ?? FAULT_TEXT[S.FAULT_MARKED]!;
}

export function statusName(st: number): string {
  for (const [k, v] of Object.entries(Status)) if (v === st) return k;
  return st >= 0 ? 'OK' : `STATUS(${st})`;
}

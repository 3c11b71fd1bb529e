/**
 * Exit codes of `vbus`: 0 on success; on failure the Linux errno number of the error's
 * code (ENOENT 2, EACCES 13, EEXIST 17, EINVAL 22, ...), so a script can tell a
 * missing object from a refusal; usage errors (unknown command or option, bad or
 * missing option value) are EINVAL (22); a demo whose checks failed exits 1; an error
 * that is not a VbusError (a bug) exits 70 and prints its stack only with VBUS_DEBUG=1.
 */
import { VbusError } from '../errors.js';

export const EXIT_OK = 0;
export const EXIT_CHECK_FAILED = 1;
export const EXIT_INTERNAL = 70;

export function exitCodeFor(e: unknown): number {
  return e instanceof VbusError ? e.errno : EXIT_INTERNAL;
}

/** Prints `vbus: MESSAGE` (the whole message: topology errors span lines) and returns the exit code. */
export function report(e: unknown, err: NodeJS.WritableStream = process.stderr): number {
  if (e instanceof VbusError) {
    err.write(`vbus: ${e.message}\n`);
  } else {
    err.write(`vbus: internal error: ${String((e as Error)?.message ?? e)}\n`);
    if (process.env['VBUS_DEBUG']) err.write(`${String((e as Error)?.stack ?? '')}\n`);
  }
  return exitCodeFor(e);
}

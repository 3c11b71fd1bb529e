/**
 * The one control message the browser platform adds to a worker's channel: a Web Worker
 * that closes itself fires no event, so `workerContext().exit(code)` posts this marker
 * first and the spawning side turns it into onExit(code). Environment-neutral.
 */
const EXIT_KEY = '__vbusWorkerExit';
const START_KEY = '__vbusWorkerStart';

export function exitMessage(code: number): Record<string, number> {
  return { [EXIT_KEY]: code };
}

/** The exit code if `msg` is an exit marker, else undefined. */
export function readExitMessage(msg: unknown): number | undefined {
  if (typeof msg !== 'object' || msg === null) return undefined;
  const code = (msg as Record<string, unknown>)[EXIT_KEY];
  return typeof code === 'number' ? code : undefined;
}

const SHARED_KEY = '__vbusProcessShared';

/**
 * Web Workers take no start data, so the spawner posts it as the first message, with the
 * process-wide shared buffer (if any) beside it.
 */
export function startMessage(data: unknown, shared?: SharedArrayBuffer): Record<string, unknown> {
  return shared ? { [START_KEY]: data, [SHARED_KEY]: shared } : { [START_KEY]: data };
}

/** The process-wide shared buffer a start message carries, if any. */
export function readStartShared(msg: unknown): SharedArrayBuffer | undefined {
  if (typeof msg !== 'object' || msg === null) return undefined;
  const s = (msg as Record<string, unknown>)[SHARED_KEY];
  return typeof SharedArrayBuffer !== 'undefined' && s instanceof SharedArrayBuffer ? s : undefined;
}

/** [true, data] if `msg` is a start message, else [false]. */
export function readStartMessage(msg: unknown): [true, unknown] | [false] {
  if (typeof msg !== 'object' || msg === null || !(START_KEY in msg)) return [false];
  return [true, (msg as Record<string, unknown>)[START_KEY]];
}

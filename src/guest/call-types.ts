/**
 * The shapes of a guest call (src/guest/call-client.ts makes it), apart from the client
 * so code that only passes calls on (src/transport/sync-gate.ts) needs no import of it.
 */

export interface CallOptions {
  /** Give up after this many milliseconds (ETIMEDOUT). Default: the client's (DEFAULT_CALL_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Abort (ECANCELED). For synchronous calls only checked before the call starts: the thread is blocked meanwhile. */
  signal?: AbortSignal;
}

export interface Request {
  op: number;
  devId?: number;
  handle?: number;
  func?: number;
  args?: [number?, number?, number?];
  payload?: Uint8Array | null;
}

/** What the synchronous-call gate uses of a call client: the async call and the last reply's values. */
export interface AsyncCaller {
  callAsync(req: Request, out: Uint8Array | null, opts?: CallOptions): Promise<number>;
  readonly rvals: Uint32Array;
  rlen: number;
}

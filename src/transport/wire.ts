/**
 * The message transport's one message: a batch of changed words of a bus memory plus
 * the futex words to wake, in one transferable ArrayBuffer (an Int32Array).
 *
 *  word 0        1          2            3          4          5 ...
 *       +--------+----------+------------+----------+----------+---------------+----------------------+---------------+
 *       | MAGIC  | VERSION  | EXTENT     | NWAKES   | NRUNS    | WAKE[NWAKES]  | (START, LEN)[NRUNS]  | data words    |
 *       +--------+----------+------------+----------+----------+---------------+----------------------+---------------+
 *
 * EXTENT: bytes of the bus memory the sender keeps in step (the receiver scans as much).
 * WAKE: word indices whose waiters the receiver wakes after applying the runs (an
 * Atomics.notify, or a raised signal's PENDING word). A run: LEN words from word START;
 * the data words of all runs follow in order. Everything here is read as hostile:
 * {@link decodeBatch} checks every count and bound before anything is applied.
 */
export const BATCH_MAGIC = 0x4d425656; // "VVBM"
export const BATCH_VERSION = 1;
export const BATCH_OFF_MAGIC = 0;
export const BATCH_OFF_VERSION = 1;
export const BATCH_OFF_EXTENT = 2;
export const BATCH_OFF_NWAKES = 3;
export const BATCH_OFF_NRUNS = 4;
/** Header words before the wake list. */
export const BATCH_HEADER_WORDS = 5;
/** Most wake entries one batch may carry (more is malformed). */
export const BATCH_MAX_WAKES = 1 << 16;

export interface Batch {
  extent: number;
  /** Views into the batch buffer. */
  wakes: Int32Array;
  runs: Int32Array;
  data: Int32Array;
}

/** Encodes runs of `src` (START, LEN pairs) and wakes into a new buffer. */
export function encodeBatch(src: Int32Array, runs: number[], dataWords: number, wakes: Iterable<number>, extent: number): ArrayBuffer {
  const w = [...wakes];
  const nRuns = runs.length >> 1;
  const out = new Int32Array(BATCH_HEADER_WORDS + w.length + runs.length + dataWords);
  out[BATCH_OFF_MAGIC] = BATCH_MAGIC;
  out[BATCH_OFF_VERSION] = BATCH_VERSION;
  out[BATCH_OFF_EXTENT] = extent;
  out[BATCH_OFF_NWAKES] = w.length;
  out[BATCH_OFF_NRUNS] = nRuns;
  let at = BATCH_HEADER_WORDS;
  for (const i of w) out[at++] = i;
  for (let r = 0; r < runs.length; r++) out[at++] = runs[r]!;
  for (let r = 0; r < runs.length; r += 2) {
    const start = runs[r]!, len = runs[r + 1]!;
    out.set(src.subarray(start, start + len), at);
    at += len;
  }
  return out.buffer;
}

/**
 * Checks and views a received batch for a memory of `words` 32-bit words. Returns the
 * batch, or a sentence saying why it was refused (nothing is applied then).
 */
export function decodeBatch(buf: unknown, words: number): Batch | string {
  if (!(buf instanceof ArrayBuffer)) return 'not an ArrayBuffer';
  if (buf.byteLength % 4 !== 0 || buf.byteLength < BATCH_HEADER_WORDS * 4) return `length ${buf.byteLength} is not a whole batch`;
  const v = new Int32Array(buf);
  if (v[BATCH_OFF_MAGIC] !== BATCH_MAGIC) return `magic 0x${(v[BATCH_OFF_MAGIC]! >>> 0).toString(16)} is not a batch's`;
  if (v[BATCH_OFF_VERSION] !== BATCH_VERSION) return `batch version ${v[BATCH_OFF_VERSION]} is not ${BATCH_VERSION}`;
  const extent = v[BATCH_OFF_EXTENT]!, nWakes = v[BATCH_OFF_NWAKES]!, nRuns = v[BATCH_OFF_NRUNS]!;
  if (extent < 0 || extent > words * 4 || extent % 4 !== 0) return `extent ${extent} is outside the memory`;
  if (nWakes < 0 || nWakes > BATCH_MAX_WAKES) return `wake count ${nWakes} is out of range`;
  if (nRuns < 0 || BATCH_HEADER_WORDS + nWakes + 2 * nRuns > v.length) return `run count ${nRuns} does not fit the batch`;
  const wakes = v.subarray(BATCH_HEADER_WORDS, BATCH_HEADER_WORDS + nWakes);
  for (let i = 0; i < nWakes; i++) if (wakes[i]! < 0 || wakes[i]! >= words) return `wake word ${wakes[i]} is outside the memory`;
  const runsAt = BATCH_HEADER_WORDS + nWakes;
  const runs = v.subarray(runsAt, runsAt + 2 * nRuns);
  let total = 0;
  for (let r = 0; r < runs.length; r += 2) {
    const start = runs[r]!, len = runs[r + 1]!;
    if (start < 0 || len <= 0 || start > words - len) return `run [${start}, +${len}) is outside the memory`;
    total += len;
  }
  const dataAt = runsAt + 2 * nRuns;
  if (dataAt + total !== v.length) return `runs name ${total} data words but the batch carries ${v.length - dataAt}`;
  return { extent, wakes, runs, data: v.subarray(dataAt) };
}

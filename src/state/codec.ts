/**
 * The container every saved thing is written in: device states, bus snapshots and
 * recordings. A document is a tree of plain values (null, booleans, numbers, strings,
 * arrays, objects) and byte arrays; the tree goes into a JSON section (readable with
 * any tool), the byte arrays into binary sections the JSON points to, so a disk image
 * is stored as its bytes, not as text.
 *
 * Layout (all integers little-endian u32):
 *
 *   0        magic 'VBSF'
 *   4        container version (CONTAINER_VERSION)
 *   8        kind length K, then K bytes of kind text ('device-state', 'recording', ...)
 *   12+K     JSON length J, then J bytes of UTF-8 JSON (byte arrays appear as {"$b": n})
 *   ...      blob count N, then N times: length L, L bytes (padded to a multiple of 4)
 *   end-4    CRC-32 of every byte before it
 *
 * Decoding checks the magic, the container version, the kind the caller expects, every
 * length against the bytes present, and the checksum, before it parses anything, so a
 * truncated or corrupted file is refused with a VbusError (EINVAL) saying what is wrong,
 * never half-read. Object keys starting with `$` are reserved for the codec.
 */
import { vbusError } from '../errors.js';
import { crc32 } from './crc32.js';

/** A value a document may hold. */
export type StateValue = null | boolean | number | string | Uint8Array | StateValue[] | { [key: string]: StateValue };

/** File magic: 'VBSF' read as a little-endian u32. */
export const CONTAINER_MAGIC = 0x46534256;
/** Version of the container layout above (not of what is inside: each kind versions its own content). */
export const CONTAINER_VERSION = 1;
/** Bytes of the magic + version words. */
const PREAMBLE_BYTES = 8;
/** Bytes of the trailing checksum. */
const CRC_BYTES = 4;

const BLOB_KEY = '$b';

/** Encodes `value` as a document of `kind`. Throws EINVAL for a value the container cannot hold. */
export function encodeDocument(kind: string, value: StateValue): Uint8Array {
  const blobs: Uint8Array[] = [];
  const json = JSON.stringify(lift(value, blobs, '$'));
  const enc = new TextEncoder();
  const kindBytes = enc.encode(kind);
  const jsonBytes = enc.encode(json);
  let total = PREAMBLE_BYTES + 4 + pad4(kindBytes.length) + 4 + pad4(jsonBytes.length) + 4 + CRC_BYTES;
  for (const b of blobs) total += 4 + pad4(b.length);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  let at = 0;
  const u32 = (v: number) => { dv.setUint32(at, v >>> 0, true); at += 4; };
  const bytes = (b: Uint8Array) => { u32(b.length); out.set(b, at); at += pad4(b.length); };
  u32(CONTAINER_MAGIC);
  u32(CONTAINER_VERSION);
  bytes(kindBytes);
  bytes(jsonBytes);
  u32(blobs.length);
  for (const b of blobs) bytes(b);
  dv.setUint32(at, crc32(out.subarray(0, at)), true);
  return out;
}

/** What {@link decodeDocument} returns. */
export interface DecodedDocument {
  kind: string;
  value: StateValue;
}

/**
 * Decodes a document, checking it whole first (see the layout). `expectKind` refuses a
 * document of another kind (a recording given where a device state is wanted). `what`
 * names the input in errors (a file path).
 */
export function decodeDocument(data: Uint8Array, expectKind: string, what = 'input'): DecodedDocument {
  const bad = (why: string, details: Record<string, unknown> = {}) => vbusError('EINVAL', `${what} is not a valid vbus ${expectKind} file: ${why}`, { what, ...details });
  if (!(data instanceof Uint8Array)) throw bad('expected bytes');
  if (data.length < PREAMBLE_BYTES + 12 + CRC_BYTES) throw bad(`only ${data.length} bytes`, { bytes: data.length });
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const magic = dv.getUint32(0, true);
  if (magic !== CONTAINER_MAGIC) throw bad(`magic 0x${magic.toString(16)} (expected 0x${CONTAINER_MAGIC.toString(16)}, 'VBSF')`, { magic });
  const version = dv.getUint32(4, true);
  if (version !== CONTAINER_VERSION) {
    throw vbusError('ENOTSUP', `${what}: container version ${version} is not supported (this runtime reads version ${CONTAINER_VERSION})`, { what, version, supported: CONTAINER_VERSION });
  }
  const body = data.length - CRC_BYTES;
  const want = dv.getUint32(body, true);
  const got = crc32(data.subarray(0, body));
  if (want !== got) throw bad(`checksum mismatch (stored 0x${want.toString(16)}, computed 0x${got.toString(16)}): the file is corrupted or truncated`, { stored: want, computed: got });
  let at = PREAMBLE_BYTES;
  const take = (): Uint8Array => {
    if (at + 4 > body) throw bad(`length word at byte ${at} runs past the end`);
    const len = dv.getUint32(at, true);
    at += 4;
    if (len > body - at) throw bad(`a section of ${len} bytes at byte ${at} runs past the end`, { len, at });
    const b = data.subarray(at, at + len);
    at += pad4(len);
    return b;
  };
  const dec = new TextDecoder('utf-8', { fatal: true });
  let kind: string, json: string;
  try {
    kind = dec.decode(take());
    json = dec.decode(take());
  } catch (e) {
    if (e instanceof Error && e.name === 'VbusError') throw e;
    throw bad('a text section is not UTF-8');
  }
  if (kind !== expectKind) throw bad(`it holds a ${JSON.stringify(kind)}`, { kind });
  if (at + 4 > body) throw bad('the blob count is missing');
  const n = dv.getUint32(at, true);
  at += 4;
  const blobs: Uint8Array[] = [];
  for (let i = 0; i < n; i++) blobs.push(new Uint8Array(take())); // a plain copy: the caller may reuse its buffer (a Buffer stays no Buffer)
  if (at !== body) throw bad(`${body - at} bytes after the last section`);
  let tree: unknown;
  try { tree = JSON.parse(json); } catch { throw bad('the JSON section does not parse'); }
  return { kind, value: lower(tree, blobs, bad) };
}

function pad4(n: number): number { return (n + 3) & ~3; }

/** Replaces byte arrays by blob references; checks that everything else is JSON-safe. */
function lift(v: StateValue, blobs: Uint8Array[], path: string): unknown {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw vbusError('EINVAL', `state value at ${path} is ${v}: only finite numbers can be saved`, { path });
    return v;
  }
  if (v instanceof Uint8Array) { blobs.push(v); return { [BLOB_KEY]: blobs.length - 1 }; }
  if (Array.isArray(v)) return v.map((x, i) => lift(x, blobs, `${path}[${i}]`));
  if (typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k.startsWith('$')) throw vbusError('EINVAL', `state key ${path}.${k}: keys starting with $ are reserved`, { path, key: k });
      if (x === undefined) continue;
      o[k] = lift(x, blobs, `${path}.${k}`);
    }
    return o;
  }
  throw vbusError('EINVAL', `state value at ${path} is a ${typeof v}, which cannot be saved`, { path });
}

function lower(v: unknown, blobs: Uint8Array[], bad: (why: string) => Error): StateValue {
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map((x) => lower(x, blobs, bad));
  const o = v as Record<string, unknown>;
  if (BLOB_KEY in o) {
    const i = o[BLOB_KEY];
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= blobs.length) throw bad(`blob reference ${JSON.stringify(i)} is out of range`);
    return blobs[i]!;
  }
  const out: Record<string, StateValue> = {};
  for (const [k, x] of Object.entries(o)) out[k] = lower(x, blobs, bad);
  return out;
}

/**
 * The live-migration stream (src/migrate): frames on one stream socket, source to
 * target and back. Every frame:
 *
 *   0   u32 LE  body length B (at most MAX_FRAME_BODY)
 *   4   u8      frame type (FRAME)
 *   5   B bytes body: UTF-8 JSON for the control frames; for PAGES, binary:
 *               u32 LE image index, u32 LE byte offset, then the bytes
 *
 * The conversation, in order (either side may close at any point, which ends it):
 *
 *   source                                  target
 *   HELLO {magic, version, buses, devices,  ->
 *          members, images, guests}         <-  ACCEPT {version, parks} | REFUSE {code, message}
 *   -- the target starts a parked worker per guest (its module loads meanwhile) --
 *   PAGES ... (pre-copy rounds, bus running) ->
 *                                           <-  PARKED {} (when `parks`: every worker waits for its boot)
 *   PAGES ... (one more round after PARKED)  ->
 *   -- stop: the source's guests quiesce and save --
 *   PAGES ... (what changed since)          ->
 *   STATE (the bus snapshot, without images) ->
 *                                           <-  READY {} | FAILED {code, message}
 *   GO {joinWaitMs}                         ->
 *                                           <-  RESUMED {notJoined}
 *
 * The target builds the buses at STATE and boots the parked guests at GO; it answers
 * RESUMED once every guest has joined and run to its first wait (`notJoined` lists
 * those that did not within GO's `joinWaitMs`, at most 5 s). Until GO it undoes
 * everything when the stream ends. The source stops its guests only after RESUMED.
 */

/** What a HELLO names itself as. */
export const MIGRATE_MAGIC = 'vbus-migrate';
/**
 * The stream layout this runtime speaks; another version is refused, naming both.
 * Version 2: STATE holds a bus snapshot of version 2 (bus memory images and connector
 * tables, src/snapshot/format.ts), and HELLO may name each guest's bus.
 */
export const MIGRATE_VERSION = 2;

export const FRAME = {
  HELLO: 1, ACCEPT: 2, REFUSE: 3, PAGES: 4, STATE: 5, READY: 6, FAILED: 7, GO: 8, RESUMED: 9, PARKED: 10,
} as const;
export type FrameType = (typeof FRAME)[keyof typeof FRAME];

/** u32 body length + u8 type. */
export const FRAME_HEADER_BYTES = 5;
/** u32 image index + u32 byte offset, before a PAGES frame's bytes. */
export const PAGES_HEADER_BYTES = 8;
/** Largest body accepted (a snapshot of many devices without their images fits easily). */
export const MAX_FRAME_BODY = 256 << 20;
/** Largest run of pages in one PAGES frame (so one frame never holds the stream long). */
export const MAX_PAGES_RUN = 1 << 20;

/** HELLO: what the source is about to send, so the target can refuse before any page. */
export interface Hello {
  magic: string;
  version: number;
  buses: Array<{ name: string; memoryBytes: number }>;
  devices: Array<{ name: string; cls: string; version: number }>;
  members: number[];
  /** Images copied page by page (DeviceStateSpec.images): device, state field, length. */
  images: Array<{ device: string; field: string; bytes: number }>;
  /**
   * The guest workers among the members, with their module URL, so the target can
   * start their workers during pre-copy (and, with the guest's `bus`, attach them to
   * it). Optional: without it the target starts them at GO.
   */
  guests?: Array<{ id: number; url: string; bus?: string }>;
}

/** REFUSE / FAILED: a VbusError's code and message, from the other side. */
export interface Refusal { code: string; message: string }

export function frame(type: FrameType, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + body.length);
  new DataView(out.buffer).setUint32(0, body.length, true);
  out[4] = type;
  out.set(body, FRAME_HEADER_BYTES);
  return out;
}

export function jsonBody(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** A PAGES frame for `bytes` of image `image` at `offset`. */
export function pagesFrame(image: number, offset: number, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + PAGES_HEADER_BYTES + bytes.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, PAGES_HEADER_BYTES + bytes.length, true);
  out[4] = FRAME.PAGES;
  dv.setUint32(5, image, true);
  dv.setUint32(9, offset, true);
  out.set(bytes, FRAME_HEADER_BYTES + PAGES_HEADER_BYTES);
  return out;
}

/** A VbusError as REFUSE / FAILED carry it: the code, and the message without its "CODE: " prefix. */
export function refusalOf(e: { code: string; message: string }): Refusal {
  const prefix = `${e.code}: `;
  return { code: e.code, message: e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message };
}

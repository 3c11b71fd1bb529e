/**
 * Messages of the path benchmark. The host tells the guest what to run (a {@link Job});
 * in `qemu-like` mode the guest posts each request to the main thread and the main
 * thread answers each with a reply, both by postMessage.
 */

/** Which device model a job drives. */
export type PathDevice = 'venet-loopback' | 'vdisk' | 'echo';

/** One measurement: `window` requests kept in flight for `ms` milliseconds. */
export interface Job {
  cmd: 'run';
  device: PathDevice;
  /** Frame bytes (venet), read bytes (vdisk) or call payload bytes (echo). */
  bytes: number;
  window: number;
  ms: number;
  /** `direct`: through the vbus driver; `qemu`: each request by postMessage to the main thread. */
  mode: 'direct' | 'qemu';
}

/** Guest -> host: results and (qemu mode) requests. */
export type GuestMessage =
  | { event: 'ready' }
  | { event: 'result'; ops: number; seconds: number; samples: Float64Array }
  | { event: 'error'; message: string }
  | { event: 'request'; seq: number; device: PathDevice; offset: number; payload: Uint8Array };

/** Host -> guest in qemu mode: the reply to request `seq`. */
export interface ReplyMessage { event: 'reply'; seq: number; status: number; payload: Uint8Array }

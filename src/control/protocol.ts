/**
 * The control protocol, version 1: newline-delimited JSON over a Unix stream socket.
 * A client writes one request per line and reads one response per line, in order.
 *
 *   request   {"v":1,"id":7,"op":"tree","args":{"path":"/sys/vbus/"},"token":"..."}
 *   response  {"v":1,"id":7,"ok":true,"result":"/sys/vbus/\n|-- ..."}
 *             {"v":1,"id":7,"ok":false,"error":{"code":"ENOENT","errno":2,"message":"..."}}
 *
 * `token` is only sent on a grant socket (a delegated client, scoped to one bus). A
 * request of another version gets EPROTO naming both versions; a line longer than
 * {@link MAX_LINE_BYTES} gets EMSGSIZE and the connection is closed.
 */

/** Version of this protocol; every request and response carries it as `v`. */
export const CONTROL_PROTOCOL_VERSION = 1;

/** Longest request or response line accepted, in bytes. */
export const MAX_LINE_BYTES = 1 << 20;

/** Operations and their arguments. */
export interface ControlOps {
  /** Who the runtime is: name, pid, protocol version, the caller's scope. */
  hello: { args: Record<string, never>; result: HelloResult };
  ls: { args: { path: string }; result: string[] };
  tree: { args: { path: string }; result: string };
  cat: { args: { path: string }; result: string };
  readlink: { args: { path: string }; result: string };
  write: { args: { path: string; value: string }; result: null };
  mkdir: { args: { path: string }; result: null };
  rmdir: { args: { path: string }; result: null };
  ln: { args: { target: string; link: string }; result: null };
  rm: { args: { path: string }; result: null };
  /** Registers a class (modprobe) or unregisters it (rmmod): a built-in class name. */
  modprobe: { args: { name: string }; result: null };
  rmmod: { args: { name: string }; result: null };
  /** Starts a guest worker on a bus; the script is a path on the runtime's machine. */
  spawn: { args: { bus: string; script: string; data?: unknown; name?: string }; result: { member: number; bus: string } };
  /** Issues a capability for one bus. */
  grant: { args: { bus: string }; result: GrantResult };
  /** The stats region, decoded. */
  stats: { args: Record<string, never>; result: unknown };
  /** Stops the runtime (its owner only). */
  stop: { args: Record<string, never>; result: null };
  /** Saves buses with their devices and guests to a snapshot file (src/snapshot); the guests stop. Owner only. */
  save: { args: { buses: string[]; file: string }; result: { file: string; bytes: number; buses: string[] } };
  /**
   * Moves running buses to the runtime listening at migration socket `to` (src/migrate);
   * the guests continue there. Owner only.
   */
  migrate: { args: { buses: string[]; to: string }; result: { buses: string[]; target: string; downtimeMs: number; rounds: number; precopyBytes: number; stopBytes: number; stateBytes: number; totalMs: number } };
}

export type ControlOp = keyof ControlOps;

export const CONTROL_OPS: readonly ControlOp[] = ['hello', 'ls', 'tree', 'cat', 'readlink', 'write', 'mkdir', 'rmdir', 'ln', 'rm', 'modprobe', 'rmmod', 'spawn', 'grant', 'stats', 'stop', 'save', 'migrate'];

export interface HelloResult {
  v: number;
  name: string;
  pid: number;
  uid: number;
  startedAt: string;
  buses: string[];
  /** 'owner', or 'bus' for a delegated client (then `bus` names it). */
  scope: 'owner' | 'bus';
  bus?: string;
}

export interface GrantResult {
  bus: string;
  token: string;
  /** The socket a delegated client connects to (presenting the token). */
  socket: string;
}

export interface ControlRequest {
  v: number;
  id: number;
  op: string;
  args?: Record<string, unknown>;
  token?: string;
}

export interface ControlError {
  code: string;
  errno: number;
  message: string;
}

export type ControlResponse =
  | { v: number; id: number; ok: true; result: unknown }
  | { v: number; id: number; ok: false; error: ControlError };

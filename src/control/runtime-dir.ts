/**
 * Node only. Where runtimes put their sockets, and the ownership rules that keep one
 * user's runtimes away from another's.
 *
 * - Owner sockets live in the per-user runtime directory: `$VBUS_RUNTIME_DIR`, else
 *   `$XDG_RUNTIME_DIR/vbus`, else `/tmp/vbus-UID`. It is created mode 0700; an existing
 *   one must belong to the current user and be writable by nobody else, or the runtime
 *   refuses to start (EACCES): another user who can write it could replace a socket
 *   with their own and collect what clients send.
 * - Grant sockets (delegated clients) live in the grant directory: `$VBUS_GRANT_DIR`,
 *   else `/tmp/vbus-grants-UID`, mode 0711 (others may reach a socket whose path they
 *   were given, not list or write the directory). Reaching a grant socket gives
 *   nothing without a token.
 */
import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { vbusError } from '../errors.js';
import { checkName } from '../host/names.js';

export function uid(): number {
  return typeof process.getuid === 'function' ? process.getuid() : -1;
}

/**
 * Environment variables as these read them. Declared here rather than as
 * `NodeJS.ProcessEnv` so that the shipped types (`vbus/control`) compile without
 * @types/node.
 */
export type Env = Readonly<Record<string, string | undefined>>;

/** The runtime directory (not created). */
export function runtimeDir(env: Env = process.env): string {
  if (env['VBUS_RUNTIME_DIR']) return env['VBUS_RUNTIME_DIR'];
  if (env['XDG_RUNTIME_DIR']) return join(env['XDG_RUNTIME_DIR'], 'vbus');
  return `/tmp/vbus-${uid()}`;
}

/** The grant directory (not created). */
export function grantDir(env: Env = process.env): string {
  return env['VBUS_GRANT_DIR'] || `/tmp/vbus-grants-${uid()}`;
}

/** Path of runtime `name`'s owner socket. */
export function socketPath(name: string, dir = runtimeDir()): string {
  checkName(name, 'runtime');
  return join(dir, `${name}.sock`);
}

/**
 * Path of runtime `name`'s migration socket (`listenForMigration`, src/migrate): beside
 * its owner socket, in the private runtime directory, so only its user can move buses in.
 */
export function migrationPath(name: string, dir = runtimeDir()): string {
  checkName(name, 'runtime');
  return join(dir, `${name}.migrate`);
}

/**
 * Creates `dir` with `mode` if missing; then checks it is a real directory of the
 * current user that no one else can write. EACCES otherwise, naming what is wrong.
 */
export function ensurePrivateDir(dir: string, mode: number): void {
  try {
    mkdirSync(dir, { recursive: true, mode });
  } catch (e) {
    throw vbusError('EACCES', `cannot create runtime directory ${dir}: ${(e as Error).message}`, { dir });
  }
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw vbusError('ENOTDIR', `runtime directory ${dir} is not a directory (a symlink or file is refused)`, { dir });
  const me = uid();
  if (me >= 0 && st.uid !== me) {
    throw vbusError('EACCES', `runtime directory ${dir} belongs to uid ${st.uid}, not to you (uid ${me}); refusing to put a socket there`, { dir, owner: st.uid });
  }
  if ((st.mode & 0o022) !== 0) {
    throw vbusError('EACCES', `runtime directory ${dir} is writable by other users (mode ${(st.mode & 0o777).toString(8)}); refusing to start there (chmod 700 it, or choose another VBUS_RUNTIME_DIR)`, { dir, mode: st.mode & 0o777 });
  }
  // A directory just made got `mode` minus the umask, an existing one may be looser: make it exactly `mode`.
  if ((st.mode & 0o777) !== mode) chmodSync(dir, mode);
}

/**
 * Typed errors. Every error the runtime throws is a {@link VbusError} with an
 * errno-style `code`, a message a person can act on (naming the offending value or
 * path), and the values that caused it in `details`. Hot paths do not throw: they
 * return counts or negative status codes (see `Status`); throwing is for misuse.
 */
import * as L from '../assembly/layout/errno.js';

/** Numeric values follow Linux so that codes can cross the shared-memory wire as numbers (table: assembly/layout/errno.ts). */
export const ERRNO = {
  EPERM: L.ERR_EPERM,
  ENOENT: L.ERR_ENOENT,
  EIO: L.ERR_EIO,
  E2BIG: L.ERR_E2BIG,
  EBADF: L.ERR_EBADF,
  EAGAIN: L.ERR_EAGAIN,
  ENOMEM: L.ERR_ENOMEM,
  EACCES: L.ERR_EACCES,
  EFAULT: L.ERR_EFAULT,
  EBUSY: L.ERR_EBUSY,
  EEXIST: L.ERR_EEXIST,
  ENODEV: L.ERR_ENODEV,
  ENOTDIR: L.ERR_ENOTDIR,
  EISDIR: L.ERR_EISDIR,
  EINVAL: L.ERR_EINVAL,
  ENOSPC: L.ERR_ENOSPC,
  EROFS: L.ERR_EROFS,
  EPIPE: L.ERR_EPIPE,
  ENOSYS: L.ERR_ENOSYS,
  ENOTEMPTY: L.ERR_ENOTEMPTY,
  EPROTO: L.ERR_EPROTO,
  EMSGSIZE: L.ERR_EMSGSIZE,
  EADDRINUSE: L.ERR_EADDRINUSE,
  ENOTSUP: L.ERR_ENOTSUP,
  ECONNRESET: L.ERR_ECONNRESET,
  ENOTCONN: L.ERR_ENOTCONN,
  ETIMEDOUT: L.ERR_ETIMEDOUT,
  ECONNREFUSED: L.ERR_ECONNREFUSED,
  ECANCELED: L.ERR_ECANCELED,
} as const;

export type ErrnoCode = keyof typeof ERRNO;

const BY_NUMBER = new Map<number, ErrnoCode>(
  (Object.entries(ERRNO) as [ErrnoCode, number][]).map(([k, v]) => [v, k]),
);

/** The errno name for a number received over the wire, or EPROTO for an unknown one. */
export function errnoName(n: number): ErrnoCode {
  return BY_NUMBER.get(n) ?? 'EPROTO';
}

/** Short descriptions, as strerror(3) gives them. */
export const STRERROR: Record<ErrnoCode, string> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  EIO: 'Input/output error',
  E2BIG: 'Argument list too long',
  EBADF: 'Bad file descriptor',
  EAGAIN: 'Resource temporarily unavailable',
  ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied',
  EFAULT: 'Bad address',
  EBUSY: 'Device or resource busy',
  EEXIST: 'File exists',
  ENODEV: 'No such device',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EINVAL: 'Invalid argument',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
  EPIPE: 'Broken pipe',
  ENOSYS: 'Function not implemented',
  ENOTEMPTY: 'Directory not empty',
  EPROTO: 'Protocol error',
  EMSGSIZE: 'Message too long',
  EADDRINUSE: 'Address already in use',
  ENOTSUP: 'Operation not supported',
  ECONNRESET: 'Connection reset by peer',
  ENOTCONN: 'Transport endpoint is not connected',
  ETIMEDOUT: 'Connection timed out',
  ECONNREFUSED: 'Connection refused',
  ECANCELED: 'Operation canceled',
};

export class VbusError extends Error {
  /** errno-style code, stable across versions. */
  readonly code: ErrnoCode;
  /** Linux errno number for `code`. */
  readonly errno: number;
  /** The values that caused the error. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrnoCode, message: string, details: Record<string, unknown> = {}) {
    super(`${code}: ${message}`);
    this.name = 'VbusError';
    this.code = code;
    this.errno = ERRNO[code];
    this.details = details;
  }
}

/** Shorthand used across the runtime: `throw vbusError('EINVAL', 'capacity 100 is not a power of two', { capacity })`. */
export function vbusError(code: ErrnoCode, message: string, details: Record<string, unknown> = {}): VbusError {
  return new VbusError(code, message, details);
}

export function isVbusError(e: unknown, code?: ErrnoCode): e is VbusError {
  return e instanceof VbusError && (code === undefined || e.code === code);
}

/**
 * Typed errors. Every error the runtime throws is a {@link VbusError} with an
 * errno-style `code`, a message a person can act on (naming the offending value or
 * path), and the values that caused it in `details`. Hot paths do not throw: they
 * return counts or negative status codes (see `Status`); throwing is for misuse.
 */

/** Numeric values follow Linux so that codes can cross the shared-memory wire as numbers. */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENOSPC: 28,
  EROFS: 30,
  EPIPE: 32,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  EPROTO: 71,
  EMSGSIZE: 90,
  EADDRINUSE: 98,
  ENOTSUP: 95,
  ECONNRESET: 104,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  ECANCELED: 125,
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

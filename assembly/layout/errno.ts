// Linux errno numbers: the one table of them. They cross the wire as negative STATUS
// values; src/errors.ts builds its ERRNO map (names, strerror texts) from these.

export const ERR_EPERM = 1;
export const ERR_ENOENT = 2;
export const ERR_EIO = 5;
export const ERR_E2BIG = 7;
export const ERR_EBADF = 9;
export const ERR_EAGAIN = 11;
export const ERR_ENOMEM = 12;
export const ERR_EACCES = 13;
export const ERR_EFAULT = 14;
export const ERR_EBUSY = 16;
export const ERR_EEXIST = 17;
export const ERR_ENODEV = 19;
export const ERR_ENOTDIR = 20;
export const ERR_EISDIR = 21;
export const ERR_EINVAL = 22;
export const ERR_ENOSPC = 28;
export const ERR_EROFS = 30;
export const ERR_EPIPE = 32;
export const ERR_ENOSYS = 38;
export const ERR_ENOTEMPTY = 39;
export const ERR_EPROTO = 71;
export const ERR_EMSGSIZE = 90;
export const ERR_EADDRINUSE = 98;
export const ERR_ENOTSUP = 95;
export const ERR_ECONNRESET = 104;
export const ERR_ENOTCONN = 107;
export const ERR_ETIMEDOUT = 110;
export const ERR_ECONNREFUSED = 111;
export const ERR_ECANCELED = 125;

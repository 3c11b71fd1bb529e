// Linux errno numbers that cross the wire as negative STATUS values (see also
// src/errors.ts, which maps every number to its name).
export const ERR_ENOENT = 2;
export const ERR_EBUSY = 16;
export const ERR_ENODEV = 19;
export const ERR_EINVAL = 22;
export const ERR_ENOSPC = 28;
export const ERR_ENOSYS = 38;
export const ERR_EPROTO = 71;

// Address decode: turns the words a guest wrote into a validated request, or an errno.
// Layouts: assembly/layout/callslot.ts (opcodes), assembly/layout/decode.ts (tables).
//
// Everything here runs on the HOST's private decode memory: the host has already copied
// the request words out of the bus memory (one read of each shared word), and the tables
// (which id is which device on which bus, which handle is which connection) are the
// host's own. A guest can therefore neither change the tables nor change a value after
// it was checked. Unknown device ids and handles answer ENOENT (a device on another bus
// does not exist for this guest), a handle whose device was unplugged answers ENODEV,
// anything malformed EINVAL.

import {
  OP_DEVOPEN, OP_DEVCLOSE, OP_DEVCALL, OP_DEVSHM, OP_SHMSIGNAL, OP_MAX,
  SHM_RING_TO_DEVICE, SHM_RING_TO_GUEST, SHM_BUFFER, SLOT_REQUEST_BYTES,
  CALL_OP, CALL_DEVID, CALL_HANDLE, CALL_FUNC, CALL_LEN, CALL_ARG0, CALL_ARG1, CALL_ARG2,
} from "./layout/callslot";
import {
  DT_ENTRY_BYTES, DT_OFF_GEN, HT_ENTRY_BYTES, HT_OFF_DEVID, HT_OFF_GEN, HT_OFF_OPEN,
  HT_OFF_SHMS, SHM_PER_HANDLE, SHM_BUFFER_MAX, SHM_QUEUE_MAX,
} from "./layout/decode";
import { RING_MIN_CAPACITY, RING_MAX_CAPACITY } from "./layout/ring";
import { ERR_ENOENT, ERR_ENODEV, ERR_EINVAL } from "./layout/errno";

@inline function isPow2(n: u32): bool { return n != 0 && (n & (n - 1)) == 0; }

/**
 * Validates the request copied at `req` (SLOT_REQUEST_BYTES, OP first) for a member
 * whose bus has the device table `devTab` (`devN` entries) and whose own handle table
 * is `hTab` (`hN` entries), with call payloads of at most `payloadMax` bytes. Writes the
 * decoded request to `out` and returns the opcode (> 0), or a negative errno.
 */
export function decode_request(req: u32, devTab: u32, devN: u32, hTab: u32, hN: u32, payloadMax: u32, out: u32): i32 {
  const op = load<u32>(req + CALL_OP);
  if (op == 0 || op > (OP_MAX as u32)) return -ERR_EINVAL;
  memory.fill(out, 0, SLOT_REQUEST_BYTES);
  store<u32>(out, op, CALL_OP);

  if (op == (OP_DEVOPEN as u32)) {
    const devId = load<u32>(req + CALL_DEVID);
    if (devId >= devN) return -ERR_ENOENT;
    if (load<u32>(devTab + devId * (DT_ENTRY_BYTES as u32), DT_OFF_GEN) == 0) return -ERR_ENOENT;
    store<u32>(out, devId, CALL_DEVID);
    store<u32>(out, load<u32>(req + CALL_ARG0), CALL_ARG0); // interface version: the model judges it
    return op as i32;
  }

  // Every other verb names an open connection by handle.
  const h = load<u32>(req + CALL_HANDLE);
  if (h == 0 || h >= hN) return -ERR_ENOENT;
  const he = hTab + h * (HT_ENTRY_BYTES as u32);
  if (load<u32>(he, HT_OFF_OPEN) == 0) return -ERR_ENOENT;
  const devId = load<u32>(he, HT_OFF_DEVID);
  if (devId >= devN) return -ERR_ENOENT; // cannot happen with host-written tables; checked anyway
  const gen = load<u32>(devTab + devId * (DT_ENTRY_BYTES as u32), DT_OFF_GEN);
  store<u32>(out, devId, CALL_DEVID);
  store<u32>(out, h, CALL_HANDLE);
  if (gen != load<u32>(he, HT_OFF_GEN)) {
    // The device this handle was opened on is gone (or was relinked): only a close is still meaningful.
    if (op == (OP_DEVCLOSE as u32)) return op as i32;
    return -ERR_ENODEV;
  }

  if (op == (OP_DEVCLOSE as u32)) return op as i32;

  if (op == (OP_DEVCALL as u32)) {
    const len = load<u32>(req + CALL_LEN);
    if (len > payloadMax) return -ERR_EINVAL;
    store<u32>(out, load<u32>(req + CALL_FUNC), CALL_FUNC);
    store<u32>(out, len, CALL_LEN);
    return op as i32;
  }

  if (op == (OP_DEVSHM as u32)) {
    const queue = load<u32>(req + CALL_ARG0);
    const bytes = load<u32>(req + CALL_ARG1);
    const kind = load<u32>(req + CALL_ARG2);
    if (queue > (SHM_QUEUE_MAX as u32)) return -ERR_EINVAL;
    if (load<u32>(he, HT_OFF_SHMS) >= (SHM_PER_HANDLE as u32)) return -ERR_EINVAL;
    if (kind == (SHM_RING_TO_DEVICE as u32) || kind == (SHM_RING_TO_GUEST as u32)) {
      if (!isPow2(bytes) || bytes < (RING_MIN_CAPACITY as u32) || bytes > (RING_MAX_CAPACITY as u32)) return -ERR_EINVAL;
    } else if (kind == (SHM_BUFFER as u32)) {
      if (bytes == 0 || bytes > (SHM_BUFFER_MAX as u32)) return -ERR_EINVAL;
    } else {
      return -ERR_EINVAL;
    }
    store<u32>(out, queue, CALL_ARG0);
    store<u32>(out, bytes, CALL_ARG1);
    store<u32>(out, kind, CALL_ARG2);
    return op as i32;
  }

  // OP_SHMSIGNAL
  const shm = load<u32>(req + CALL_ARG0);
  if (shm >= load<u32>(he, HT_OFF_SHMS)) return -ERR_EINVAL;
  store<u32>(out, shm, CALL_ARG0);
  return op as i32;
}

/**
 * Validates that `[offset, offset + len)` lies inside the region `[base, base + bytes)`:
 * for device descriptors that point into a DEVSHM buffer (vdisk data, venet frames).
 * Returns 0 or -EINVAL. u32 arithmetic with explicit overflow checks.
 */
export function decode_range(base: u32, bytes: u32, offset: u32, len: u32): i32 {
  if (offset < base) return -ERR_EINVAL;
  const rel = offset - base;
  if (rel > bytes || len > bytes - rel) return -ERR_EINVAL;
  return 0;
}




/** Opcodes, slot states, event types and shm kinds of the connector protocol (from the shared layouts). */
export {
  OP_DEVOPEN, OP_DEVCLOSE, OP_DEVCALL, OP_DEVSHM, OP_SHMSIGNAL,
  SHM_RING_TO_DEVICE, SHM_RING_TO_GUEST, SHM_BUFFER,
  SLOT_IDLE, SLOT_REQUEST, SLOT_BUSY, SLOT_DONE, SLOT_DEFAULT_PAYLOAD,
  SLOT_OFF_STATE, SLOT_OFF_OP, SLOT_OFF_DEVID, SLOT_OFF_HANDLE, SLOT_OFF_FUNC, SLOT_OFF_LEN,
  SLOT_OFF_ARG0, SLOT_OFF_ARG1, SLOT_OFF_ARG2, SLOT_OFF_SEQ, SLOT_OFF_STATUS, SLOT_HEADER_BYTES,
} from '../../assembly/layout/callslot.js';
export { EV_DEVADD, EV_DEVDROP, EV_DEVEVENT, EV_SHUTDOWN } from '../../assembly/layout/event.js';
export { BUSCTL_OFF_PENDING } from '../../assembly/layout/busctl.js';

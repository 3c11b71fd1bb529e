// The vbus core: ring and signal operations over a shared bus memory.
// Compiled to one .wasm with no data segments, no start function and no import but
// the memory (checked by scripts/check-wasm.mjs), so any number of instances on any
// number of threads can run over the same memory.

export {
  ring_init, ring_check, ring_fault, ring_used,
  ring_reserve, ring_commit, ring_push, ring_push_batch,
  ring_peek, ring_release, ring_rewind, ring_pop, ring_pop_batch, ring_skip,
  ring_result_ptr, ring_result_tag,
} from "./ring";
export { sig_init, sig_check, sig_raise, sig_enable, sig_disable, sig_spin, spin_while } from "./signal";
export { decode_request, decode_range } from "./decode";

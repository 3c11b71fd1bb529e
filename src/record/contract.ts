/**
 * What a device model declares so it can be recorded and replayed, beyond the
 * connector hooks (open, call, shm, poll, signal, close, linked, unlinked, attrChanged),
 * which every model has and the recorder always takes.
 *
 * - `recordSources`: instance methods through which the model reads the world outside
 *   the bus: a clock, the CSPRNG, a host endpoint's answers. The recorder stores what
 *   each call returned (and what it wrote into byte arrays it was given); on replay
 *   the call is not made and the stored answer is given instead.
 * - `recordEntries`: instance methods through which the world calls the model outside
 *   the connector's hooks: an endpoint delivering input, a timer. The recorder makes
 *   each such call a step (with the bus synchronised around it, like a hook); on replay
 *   the replayer makes the call, and the model's own late calls (its timers) are not
 *   made, since the recording already has them where they happened.
 *
 * Arguments and results must be numbers, text, booleans, null, byte arrays, Errors
 * (kept as their message) or plain objects and arrays of those.
 */
export interface RecordableModel {
  readonly recordSources?: readonly string[];
  readonly recordEntries?: readonly string[];
  /**
   * Why the device cannot be recorded from now, or null: state outside the device state
   * that a replay could not rebuild (venet-tap: a socket already open). Recording then
   * fails with EBUSY giving the reason.
   */
  recordRefusal?(): string | null;
}

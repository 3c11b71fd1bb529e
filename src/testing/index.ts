/**
 * `vbus/testing`: what a device author needs to test a device model without workers,
 * and the seeded data tools the project's own tests, benchmarks and demo use.
 *
 * - MockGuest / MockConnection: a worker-less guest over a real bus member (async calls
 *   with deadlines); DeviceHarness: a host with one device of a class under test.
 * - Prng (seeded sfc32), Sequence / Verifier (records that are a pure function of
 *   (seed, index), checked byte for byte), canaries around bus regions.
 *
 * Environment-neutral: import `vbus` (or `vbus/browser`) first so a platform is installed.
 */
export { MockGuest, MockConnection, MOCK_CALL_TIMEOUT_MS } from './mock-guest.js';
export { DeviceHarness } from './harness.js';
export type { HarnessOptions } from './harness.js';
export { attachMember } from './member-adapter.js';
export type { MemberAttachment } from './member-adapter.js';
export { Prng, mix32, recordHash } from './prng.js';
export {
  Sequence, Verifier, recordLen, recordTag, fillPayload, checkPayload, checksumBytes, checksumRecord, expectedChecksum,
} from './sequence.js';
export { CANARY_BYTES, fillCanary, checkCanary, checkCanaryRange, guardedRing, guardedBuffer } from './canary.js';
export type { GuardedRing, GuardedBuffer } from './canary.js';

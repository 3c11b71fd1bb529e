// Both bus transports, for test bodies that must hold on each: `describe.each(TRANSPORTS)`.
// 'shared' is SharedArrayBuffer + Atomics; 'message' keeps a private copy of the bus
// memory per side and carries changes in batched postMessage (src/transport/).
export const TRANSPORTS = ['shared', 'message'] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** Where a device model runs and which transport its bus uses: backend workers need shared memory. */
export const PLACED_TRANSPORTS = [
  { placement: 'host', transport: 'shared' },
  { placement: 'backend', transport: 'shared' },
  { placement: 'host', transport: 'message' },
] as const;

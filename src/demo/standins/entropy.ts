/**
 * Stand-in `vrng` (interface `virtual-entropy`) for the demo until the real class is
 * merged: bytes from the platform CSPRNG (`crypto.getRandomValues`, on Node and in
 * browsers), private to the one bus the device is linked to (exclusive).
 *
 *   READ (func 1): request u32 byte count (1..1024); reply that many random bytes
 */
import type { DeviceClassSpec } from '../../host/device-class.js';
import type { Device } from '../../host/device.js';
import type { Connection } from '../../guest/connection.js';
import type { GuestConnector } from '../../guest/connector.js';
import { ERRNO } from '../../errors.js';
import { callModel, putU32, u32At, type CallCounters } from './call-model.js';

export const ENTROPY_INTERFACE = 'virtual-entropy';
export const ENTROPY_VERSION = 1;
export const ENTROPY_FUNC_READ = 1;
/** Most bytes one READ returns. */
export const ENTROPY_MAX_READ = 1024;

interface RngState extends CallCounters { served: number }
const rngs = new WeakMap<Device, RngState>();

export const entropyStandinClass: DeviceClassSpec = {
  name: 'vrng',
  interfaces: [ENTROPY_INTERFACE],
  exclusive: true,
  attributes: [
    { name: 'bytes_served', mode: 'ro', show: (d) => String(rngs.get(d)?.served ?? 0) },
  ],
  create(device) {
    const st: RngState = { calls: 0, errors: 0, served: 0 };
    rngs.set(device, st);
    return callModel(ENTROPY_VERSION, {
      [ENTROPY_FUNC_READ]: (req, out) => {
        const n = u32At(req, 0);
        if (n < 1 || n > ENTROPY_MAX_READ || n > out.length) return -ERRNO.EINVAL;
        // getRandomValues refuses views of shared memory: fill a private buffer, then copy.
        const bytes = crypto.getRandomValues(new Uint8Array(n));
        out.set(bytes);
        st.served += n;
        return n;
      },
    }, st);
  },
};

/** Guest side of the stand-in entropy source. */
export class EntropyStandinDriver {
  private readonly conn: Connection;
  private readonly req = new Uint8Array(4);
  constructor(guest: GuestConnector, id: number) { this.conn = guest.open(id, ENTROPY_VERSION); }
  read(n: number): Uint8Array {
    putU32(this.req, 0, n);
    return this.conn.call(ENTROPY_FUNC_READ, this.req);
  }
  close(): void { try { this.conn.close(); } catch { /* already gone */ } }
}

/**
 * The virtual-entropy guest driver.
 *
 *   const rng = openRng(guest, id);
 *   rng.getRandomValues(new Uint8Array(32));   // synchronous, like crypto.getRandomValues
 *   const bytes = await rng.read(4096);        // asynchronous: the worker's loop keeps running
 *
 * Requests larger than one call slot are split into several GET_ENTROPY calls. When the
 * bus's quota is used up (EAGAIN) the driver waits and asks again, backing off from 1 ms
 * to 50 ms: the synchronous form blocks the worker, the asynchronous form a timer.
 */
import { ERRNO, vbusError } from '../../errors.js';
import { checkInterface, declareInterfaceVersions, failIfNegative, type Connection, type ConnectionStatus } from '../../guest/connection.js';
import { sharedOrPrivateBuffer } from '../../platform/shared-memory.js';
import type { GuestConnector } from '../../guest/connector.js';
import { ENTROPY_INTERFACE, ENTROPY_VERSION, FUNC_GET_ENTROPY, FUNC_INFO, INFO_OFF_QUOTA, REQ_OFF_N, REQ_BYTES } from './abi.js';

declareInterfaceVersions(ENTROPY_INTERFACE, [ENTROPY_VERSION]);

const BACKOFF_MIN_MS = 1;
const BACKOFF_MAX_MS = 50;

/** A guest's open entropy device. */
export class GuestRng {
  private readonly req = new Uint8Array(REQ_BYTES);
  private readonly reqView = new DataView(this.req.buffer);
  private readonly reply: Uint8Array;
  private readonly sleeper = new Int32Array(sharedOrPrivateBuffer(4));

  /** @internal Use {@link openRng}. */
  constructor(readonly conn: Connection) {
    this.reply = new Uint8Array(conn.payloadMax);
  }

  /** Most bytes one call returns. */
  get perCall(): number { return this.conn.payloadMax; }

  /** The bus's quota (bytes per second, 0 = unlimited), as the device reports it now. */
  quota(): number {
    const r = this.conn.call(FUNC_INFO);
    return new DataView(r.buffer, r.byteOffset, r.length).getUint32(INFO_OFF_QUOTA, true);
  }

  /**
   * Fills `u8` with bytes from the host's CSPRNG and returns it (blocks this worker while
   * the quota is used up). Throws what the device or connection failed with.
   */
  getRandomValues<T extends Uint8Array>(u8: T): T {
    let at = 0;
    let backoff = BACKOFF_MIN_MS;
    while (at < u8.length) {
      this.reqView.setUint32(REQ_OFF_N, Math.min(u8.length - at, this.reply.length), true);
      const k = this.conn.callInto(FUNC_GET_ENTROPY, this.req, this.reply);
      if (k === -ERRNO.EAGAIN || k === 0) {
        Atomics.wait(this.sleeper, 0, 0, backoff); // nobody notifies: a plain sleep
        backoff = Math.min(BACKOFF_MAX_MS, backoff * 2);
        continue;
      }
      failIfNegative(k, `entropy from device ${this.conn.deviceId}`);
      u8.set(this.reply.subarray(0, k), at);
      this.reply.fill(0, 0, k); // keep no copy behind
      at += k;
      backoff = BACKOFF_MIN_MS;
    }
    return u8;
  }

  /** `n` bytes from the host's CSPRNG, asynchronously (waits on a timer while the quota is used up). */
  async read(n: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(n) || n < 0) throw vbusError('EINVAL', `read length ${n} must be a non-negative integer`, { n });
    const out = new Uint8Array(n);
    const req = new Uint8Array(REQ_BYTES);
    let at = 0;
    let backoff = BACKOFF_MIN_MS;
    while (at < n) {
      new DataView(req.buffer).setUint32(REQ_OFF_N, Math.min(n - at, this.conn.payloadMax), true);
      let got: Uint8Array;
      try {
        got = await this.conn.callAsync(FUNC_GET_ENTROPY, req);
      } catch (e) {
        if ((e as { code?: string }).code !== 'EAGAIN') throw e;
        got = new Uint8Array(0);
      }
      if (got.length === 0) {
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(BACKOFF_MAX_MS, backoff * 2);
        continue;
      }
      out.set(got, at);
      got.fill(0);
      at += got.length;
      backoff = BACKOFF_MIN_MS;
    }
    return out;
  }

  /** The host's view of this connection (vrng has no rings: it needs a reset only after a bus reset found it faulted). */
  status(): ConnectionStatus { return this.conn.status(); }

  /** Resets the connection (the device starts it afresh). Returns the resets so far. */
  reset(): number { return this.conn.reset(); }

  /** Closes the device (DEVCLOSE). */
  close(): void { this.conn.close(); }
}

/**
 * Opens entropy device `id` on the guest's bus. Throws ENODEV if the device is not a
 * virtual-entropy device, or what DEVOPEN failed with.
 */
export function openRng(guest: GuestConnector, id: number): GuestRng {
  checkInterface(guest, id, ENTROPY_INTERFACE, 'openRng');
  return new GuestRng(guest.open(id, ENTROPY_VERSION));
}

// A device class of your own: a "counter" with two calls (add, read) and one total per
// connection, starting at the device's `start` attribute.
import { VbusError } from 'vbus';

export const FN_ADD = 1; // payload: u32 to add; reply: the new total (u32)
export const FN_READ = 2; // reply: the total (u32)

/** @type {import('vbus').DeviceClassSpec} */
export const counterClass = {
  name: 'counter',
  interfaces: ['example-counter'], // drivers bind to this, not to the class name
  attributes: [{ name: 'start', mode: 'rw', initial: '0' }],
  create(device) {
    const totals = new Map(); // connection id -> total
    return {
      open(conn) {
        // The second argument of guest.open(id, version): the interface version asked for.
        if (conn.version !== 1) throw new VbusError('ENOTSUP', `counter speaks version 1, not ${conn.version}`);
        totals.set(conn.id, Number(device.attr('start')));
      },
      call(conn, func, payload, out) {
        const reply = new DataView(out.buffer, out.byteOffset, out.byteLength);
        if (func === FN_ADD) {
          if (payload.length !== 4) return -22; // -EINVAL: the guest gets VbusError EINVAL
          const total = totals.get(conn.id) + new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0, true);
          totals.set(conn.id, total);
          reply.setUint32(0, total, true);
          return 4; // reply length
        }
        if (func === FN_READ) { reply.setUint32(0, totals.get(conn.id), true); return 4; }
        return -38; // -ENOSYS
      },
      close(conn) { totals.delete(conn.id); },
    };
  },
};

// Testing a device class without workers: vbus/testing's harness puts one device of
// the class on a bus, and a mock guest calls it through the real call slot (every call
// asynchronous, each with a deadline). Run: node examples/test-kit/counter-check.mjs
import assert from 'node:assert/strict';
import 'vbus'; // installs the platform (Node) before the test kit is used
import { DeviceHarness } from 'vbus/testing';
import { counterClass, FN_ADD, FN_READ } from '../custom-device/counter-class.mjs';

const u32 = (n) => new Uint8Array(new Uint32Array([n]).buffer);
const asU32 = (b) => new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);

const h = DeviceHarness.start({ deviceClass: counterClass, attributes: { start: '10' } });
try {
  const guest = h.guest();
  const dev = await guest.waitForDevice('example-counter');
  const conn = await guest.open(dev.id, 1);
  assert.equal(asU32(await conn.call(FN_ADD, u32(5))), 15);
  assert.equal(asU32(await conn.call(FN_READ)), 15);
  await assert.rejects(conn.call(FN_ADD, new Uint8Array(3)), { code: 'EINVAL' });
  await assert.rejects(guest.open(dev.id, 2), { code: 'ENOTSUP' });
  const other = await h.guest().open(dev.id, 1); // another guest: its own total
  assert.equal(asU32(await other.call(FN_READ)), 10);
  await conn.close();
  await assert.rejects(conn.call(FN_READ), { code: 'EBADF' });
  console.log('counter-check: all assertions passed');
} finally {
  await h.release();
}

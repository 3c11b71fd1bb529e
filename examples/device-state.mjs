// Device state as a versioned contract: save a device, write the file, load it into a
// fresh device of another runtime; a state of a version the class does not load is
// refused naming both versions. Run: node examples/device-state.mjs
import { VbusHost, vdiskClass, saveDeviceState, loadDeviceState, encodeDeviceState, decodeDeviceState } from 'vbus';

const host = new VbusHost();
host.registerClass(vdiskClass);
const dev = host.createDevice('d0');
host.setType(dev, 'vdisk');
dev.setAttr('capacity', '65536');

const state = saveDeviceState(host.device('d0'));       // { cls, version, attrs, data }
const file = encodeDeviceState(state);                   // bytes: write them anywhere

const other = new VbusHost();
other.registerClass(vdiskClass);
const fresh = other.createDevice('d0');
other.setType(fresh, 'vdisk');
loadDeviceState(fresh, decodeDeviceState(file, 'd0.state'));
other.link(other.createBus('lan0', { memoryBytes: 1 << 20 }), fresh); // load before linking (EBUSY after)
console.log('restored capacity', fresh.attr('capacity'));

const d1 = other.createDevice('d1');
other.setType(d1, 'vdisk');
try {
  loadDeviceState(d1, { ...state, version: 2 });
} catch (e) {
  console.log(e.message);             // ENOTSUP: vdisk state version 2 cannot be loaded into d1: ...
}

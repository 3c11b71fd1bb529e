// A host with the counter device (counter-class.mjs) on a bus, and a guest worker
// whose driver probes it (guest.mjs).
// Run: node examples/custom-device/host.mjs
import { VbusHost } from 'vbus';
import { counterClass } from './counter-class.mjs';

const host = new VbusHost();
host.registerClass(counterClass);
const bus = host.createBus('vm1');
const dev = host.createDevice('counter0');
host.setType(dev, 'counter');
dev.setAttr('start', '100');
host.link(bus, dev); // id 0 on vm1

const guest = host.spawnGuest(bus, new URL('./guest.mjs', import.meta.url), { data: { adds: [1, 2, 3] } });
guest.onMessage((m) => console.log('guest says:', JSON.stringify(m)));
const { code, error } = await guest.exited;
console.log(`guest exited with code ${code}${error ? `: ${error.message}` : ''}`);
await host.release();

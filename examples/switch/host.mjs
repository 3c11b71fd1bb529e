// Two buses joined by a venet-switch, a guest on each: they find each other by
// broadcasting, then exchange frames. Frames cross buses as copies made by the switch;
// neither guest ever sees the other's memory.
// Run: node examples/switch/host.mjs
import { VbusHost, adminView, registerVenetClasses } from 'vbus';

const host = new VbusHost();
registerVenetClasses(host); // venet-loopback, venet-switch, venet-tap
const left = host.createBus('left', { memoryBytes: 4 << 20 });
const right = host.createBus('right', { memoryBytes: 4 << 20 });
const sw = host.createDevice('sw0');
host.setType(sw, 'venet-switch');
host.link(left, sw); // port 0
host.link(right, sw); // port 1: each port gets its own MAC

const guestUrl = new URL('./guest.mjs', import.meta.url);
const guests = [
  host.spawnGuest(left, guestUrl, { data: { name: 'left', frames: 100 } }),
  host.spawnGuest(right, guestUrl, { data: { name: 'right', frames: 100 } }),
];
for (const g of guests) g.onMessage((m) => console.log(JSON.stringify(m)));
const exits = await Promise.all(guests.map((g) => g.exited));
console.log('exit codes:', exits.map((e) => e.code).join(' '));
console.log(adminView(host).tree('/sys/vbus/devices/sw0'));
await host.release();

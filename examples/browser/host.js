// The page's side: a host on the main thread (it only ever waits with waitAsync), one
// bus with a venet-loopback, and a guest Web Worker built as its own bundle entry.
import { VbusHost, registerVenetClasses, adminView } from 'vbus';

const out = document.getElementById('result');
const host = new VbusHost();
registerVenetClasses(host);
const bus = host.createBus('page-bus', { memoryBytes: 2 << 20 });
host.setType(host.createDevice('lo0'), 'venet-loopback');
host.link(bus, 'lo0');

// guest.js is the second entry of the same build, next to this file.
const guest = host.spawnGuest(bus, new URL('./guest.js', import.meta.url));
guest.onMessage((m) => {
  out.textContent = JSON.stringify({ ...m, tree: adminView(host).tree('/sys/vbus/instances/page-bus') });
  out.dataset.done = 'yes';
});
guest.onError((e) => { out.textContent = JSON.stringify({ error: e.message }); out.dataset.done = 'yes'; });

// A program that runs its own host and lets `vbus` administer it: the control socket
// through the API. Run: node examples/control-api.mjs  (then, in another shell:
// vbus --runtime api-example tree /sys/vbus). With --once it asks itself and exits.
import { VbusHost, vrngClass } from 'vbus';
import { ControlServer, ControlClient } from 'vbus/control';

const host = new VbusHost();
host.registerClass(vrngClass);
host.createBus('vm1');
host.setType(host.createDevice('rng0'), 'vrng');
host.link('vm1', 'rng0');

const control = await ControlServer.start(host, { name: 'api-example', onStop: () => void shutdown() });
console.log(`listening on ${control.path}`);

async function shutdown() {
  await control.close();
  host.release();
}

if (process.argv.includes('--once')) {
  const client = await ControlClient.connect(control.path);
  process.stdout.write(await client.request('tree', { path: '/sys/vbus/instances' }));
  const { token, socket } = await client.request('grant', { bus: 'vm1' });
  client.close();
  const delegate = await ControlClient.connect(socket, { token });
  console.log('delegate sees', await delegate.request('ls', { path: '/sys/vbus/instances' }));
  delegate.close();
  await shutdown();
}

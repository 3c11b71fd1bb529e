// Shared setup for the external switch port tests: a venet-switch `sw0` linked to two
// buses, a responder guest (test/fixtures/guest-venet-responder.mjs, the real guest
// driver answering ARP and ICMP echo) on each, and the switch's `ports` attribute.
import { VbusHost, registerVenetClasses, venetSwitch, type Bus, type Device, type VenetSwitchControl } from '../../dist/src/index.js';
import { drive, type Scripted } from './scripted.js';
import { RESPONDER_URL } from './tap-scenarios.js';

export type Responder = Scripted & { mac: string; ip: string };

export interface SwitchRig {
  host: VbusHost;
  sw: Device;
  ctl: VenetSwitchControl;
  buses: Bus[];
  guests: Responder[];
  release(): Promise<void>;
}

/** Switch `sw0` with `ports` set, on one bus per address in `ips`, a responder guest with that address on each. */
export async function switchRig(ports: string, ips: string[]): Promise<SwitchRig> {
  const host = new VbusHost();
  registerVenetClasses(host);
  const sw = host.createDevice('sw0');
  host.setType(sw, 'venet-switch');
  // Guests fill in their checksums: frames leave for a real network (see the ports docs).
  host.admin.write('/config/vbus/devices/sw0/features_cap', 'tx_done\n');
  host.admin.write('/config/vbus/devices/sw0/ports', ports);
  const buses: Bus[] = [];
  const guests: Responder[] = [];
  let released = false;
  const release = async (): Promise<void> => {
    if (released) return;
    released = true;
    await host.connector.release();
    host.release();
  };
  try {
    for (let i = 0; i < ips.length; i++) {
      const bus = host.createBus(`seg${i}`, { memoryBytes: 4 << 20 });
      host.link(bus, sw);
      buses.push(bus);
      const g = drive(host.spawnGuest(bus, RESPONDER_URL));
      await g.waitEvent((e) => e.event === 'ready');
      const r = await g.cmd('open', { dev: 0, ip: ips[i] });
      if (!r.ok) throw new Error(`open failed: ${r.error} ${r.message}`);
      guests.push(Object.assign(g, { mac: r.mac as string, ip: ips[i]! }));
    }
  } catch (e) {
    await release();
    throw e;
  }
  return { host, sw, ctl: venetSwitch(sw), buses, guests, release };
}

// A real Linux kernel (Debian's i386 linux-image-686, booted in the v86 emulator inside a
// vbus guest worker) on a bus: its ne2k NIC is a virtual-ethernet driver, its serial
// port a virtual-console driver. It pings a responder guest (the real venet driver) on
// another bus through a venet-switch, and answers that guest's ping. The image is built
// by scripts/build-v86-image.sh (scripts/setup.sh runs it; `.ci/run` too).
import { afterAll, describe, expect, it } from 'vitest';
import { VbusHost, registerVenetClasses, vconsoleClass, type ConsoleModel } from '../dist/src/index.js';
import { spawnV86 } from '../dist/src/platform/node-v86.js';
import { V86Console, V86_PROMPT } from '../dist/src/v86/index.js';
import { drive } from './helpers/scripted.js';
import { RESPONDER_URL } from './helpers/tap-scenarios.js';

const BOOT_MS = 240_000;
const host = new VbusHost();
afterAll(async () => { await host.connector.release(); host.release(); });

describe('v86 guest in Node', () => {
  it('boots Debian\'s i386 kernel to a shell on the vconsole, and pings a vbus guest on another bus through a switch', { timeout: BOOT_MS + 60_000 }, async () => {
    registerVenetClasses(host);
    host.registerClass(vconsoleClass);
    const sw = host.createDevice('sw0');
    host.setType(sw, 'venet-switch');
    host.admin.write('/config/vbus/devices/sw0/features_cap', 'tx_done\n'); // a real kernel fills in its checksums
    const vmBus = host.createBus('vm', { memoryBytes: 4 << 20 });
    const lanBus = host.createBus('lan', { memoryBytes: 4 << 20 });
    host.link(vmBus, sw); // id 0 on vm
    const con = host.createDevice('ttyS0');
    host.setType(con, 'vconsole');
    host.link(vmBus, con); // id 1 on vm
    host.link(lanBus, sw);

    const responder = drive(host.spawnGuest(lanBus, RESPONDER_URL));
    await responder.waitEvent((e) => e.event === 'ready');
    expect((await responder.cmd('open', { dev: 0, ip: '10.86.0.2' })).ok).toBe(true);

    const out = new V86Console(con.model as ConsoleModel);
    const started = Date.now();
    const vm = await spawnV86(host, vmBus, { ip: '10.86.0.10/24', netDevice: 0, consoleDevice: 1 });
    const errors: string[] = [];
    vm.onMessage((m) => { const e = m as { event: string; message?: string }; if (e.event === 'v86-error') errors.push(e.message!); });
    await out.waitFor(/vbus-v86: eth0 10\.86\.0\.10\/24 up/, BOOT_MS);
    await out.waitFor(/vbus-v86: 6\.\S+-686 ready/, 30_000);
    await out.type('');
    await out.waitFor(V86_PROMPT, 30_000);
    console.info(`[v86-node] boot to shell prompt: ${Date.now() - started} ms`);
    expect(errors).toEqual([]);
    // eth0 is the ne2k PCI NIC, bound by Debian's ne2k-pci module.
    expect(await out.run('ls -l /sys/class/net/eth0/device/driver', 30_000)).toMatch(/drivers\/ne2k-pci/);

    const ping = await out.run('ping -c 3 -W 5 10.86.0.2', 60_000);
    console.info(`[v86-node] ${ping.trim()}`);
    expect(ping).toMatch(/3 packets transmitted, 3 packets received, 0% packet loss/);
    expect((await responder.cmd('stats')).echo).toBe(3);
    // The switch learned the VM's NIC on the vm bus and the responder on lan.
    const fdb = host.admin.read('/config/vbus/devices/sw0/fdb');
    expect(fdb).toMatch(/ vm:\d+/);
    expect(fdb).toMatch(/ lan:\d+/);
  });
});

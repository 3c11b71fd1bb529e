// A real Linux kernel (Debian's i386 linux-image-686) booted in the v86 emulator inside a
// vbus guest, once in a Node worker and once in a Chromium Web Worker, at the same time
// (the two boots take most of this file's time; running them side by side halves it on
// a machine with a core to spare). The VM's ne2k NIC is a virtual-ethernet driver on a
// venet-switch, its serial port a virtual-console driver; it pings a vbus guest (the
// real venet driver answering ARP and ICMP echo) on another bus through the switch. The
// image is built by scripts/build-v86-image.sh (scripts/setup.sh and .ci/run run it).
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VbusHost, adminView, registerVenetClasses, vconsoleClass, type ConsoleModel } from '../dist/src/index.js';
import { startServer } from '../dist/src/demo/serve.js';
import { spawnV86 } from '../dist/src/platform/node-v86.js';
import { V86Console, V86_PROMPT } from '../dist/src/v86/index.js';
import { launchChromium, type Chromium } from './helpers/chromium.js';
import { drive } from './helpers/scripted.js';
import { RESPONDER_URL } from './helpers/tap-scenarios.js';

const BOOT_MS = 300_000;
type Win = { vbusV86: { state: string; error: string | null; bootMs: number | null; peer: { arp: number; echo: number }; console: { output: string; type(l: string): Promise<void> } } };

const host = new VbusHost();
let browser: Chromium;
beforeAll(async () => { browser = await launchChromium(); });
afterAll(async () => {
  await browser?.close();
  await host.connector.release();
  host.release();
});

describe.concurrent('v86 guest', () => {
  it('in Node: boots Debian\'s i386 kernel to a shell on the vconsole, and pings a vbus guest on another bus through a switch', { timeout: BOOT_MS + 90_000 }, async () => {
    registerVenetClasses(host);
    host.registerClass(vconsoleClass);
    const sw = host.createDevice('sw0');
    host.setType(sw, 'venet-switch');
    adminView(host).write('/config/vbus/devices/sw0/features_cap', 'tx_done\n'); // a real kernel fills in its checksums
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
    const fdb = adminView(host).read('/config/vbus/devices/sw0/fdb');
    expect(fdb).toMatch(/ vm:\d+/);
    expect(fdb).toMatch(/ lan:\d+/);
  });

  it('in Chromium: boots the kernel in a Web Worker on the bus and pings a vbus guest on another bus through the switch', { timeout: BOOT_MS + 120_000 }, async () => {
    const server = await startServer({ port: 0, isolate: true });
    try {
      const page = await browser.context.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
      await page.goto(`${server.url}v86.html`);
      await page.waitForFunction(() => ['ready', 'error', 'not-isolated'].includes((window as unknown as Win).vbusV86?.state), null, { timeout: BOOT_MS, polling: 1000 });
      const st = await page.evaluate(() => ({ state: (window as unknown as Win).vbusV86.state, error: (window as unknown as Win).vbusV86.error, bootMs: (window as unknown as Win).vbusV86.bootMs }));
      expect(st.error).toBeNull();
      expect(st.state).toBe('ready');
      console.info(`[v86-browser] boot to shell prompt: ${st.bootMs} ms`);
      expect(page.workers().some((w) => w.url().endsWith('/v86-guest.js'))).toBe(true);

      await page.evaluate(() => (window as unknown as Win).vbusV86.console.type('ping -c 3 -W 5 10.86.0.2'));
      await page.waitForFunction(() => /3 packets transmitted, \d+ packets received/.test((window as unknown as Win).vbusV86.console.output), null, { timeout: 90_000, polling: 500 });
      const out = await page.evaluate(() => (window as unknown as Win).vbusV86.console.output);
      const ping = out.slice(out.lastIndexOf('PING 10.86.0.2'));
      console.info(`[v86-browser] ${ping.split('\n').slice(0, 8).join('\n')}`);
      expect(ping).toMatch(/3 packets transmitted, 3 packets received, 0% packet loss/);
      await page.waitForFunction(() => (window as unknown as Win).vbusV86.peer.echo >= 3, null, { timeout: 10_000 });
      mkdirSync('test-results', { recursive: true });
      await page.screenshot({ path: 'test-results/v86-page.png', fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

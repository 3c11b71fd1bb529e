// The v86 page in headless Chromium: Debian's i386 kernel boots in v86 inside a module
// Web Worker that joined bus `vm` (NIC = venet driver on a switch, serial = vconsole),
// and pings the ping-peer worker on bus `lan` through the switch. The page, the v86
// package and the image are served by the demo server.
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../dist/src/demo/serve.js';
import { launchChromium, type Chromium } from './helpers/chromium.js';

const BOOT_MS = 300_000;
type Win = { vbusV86: { state: string; error: string | null; bootMs: number | null; peer: { arp: number; echo: number }; console: { output: string; type(l: string): Promise<void> } } };

let browser: Chromium;
beforeAll(async () => { browser = await launchChromium(); });
afterAll(async () => { await browser?.close(); });

describe('v86 page in Chromium', () => {
  it('boots the kernel in a Web Worker on the bus and pings a vbus guest on another bus through the switch', { timeout: BOOT_MS + 120_000 }, async () => {
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

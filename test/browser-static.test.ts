// The static build of the demo (scripts/build-static.mjs) in real Chromium, served by a
// plain static server that sends no COOP/COEP headers, as most static hosts do:
//  - with service workers allowed, the coi-serviceworker shim adds the headers and the
//    page ends up cross-origin isolated, on shared memory;
//  - with service workers blocked, the page runs its buses on the message transport,
//    and frames still cross the switch between the two buses.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchChromium, type Chromium } from './helpers/chromium.js';
import { serveStatic, type StaticServer } from './helpers/static-server.js';

const T = { timeout: 90_000 };
const root = resolve(import.meta.dirname, '..');

interface Demo {
  state: string; error: string | null; transport: string | null; isolation: string | null;
  lab: { guests: Map<string, { counters: { framesRx: number; framesBad: number; diskReads: number; diskMismatches: number } }>; host: { device(n: string): { attr(a: string): string }; buses(): Array<{ transport: string }> } };
}
type Win = { vbusDemo: Demo };

let out: string;
let server: StaticServer;
beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'vbus-static-'));
  const r = spawnSync(process.execPath, [join(root, 'scripts/build-static.mjs'), '--out', out, '--quiet'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build-static failed: ${r.stderr}`);
  server = await serveStatic(out);
}, 60_000);
afterAll(async () => {
  await server?.close();
  rmSync(out, { recursive: true, force: true });
});

async function openDemo(browser: Chromium): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  await page.goto(server.url);
  // With the shim the first load reloads itself once; wait for the page that stays.
  await page.waitForFunction(() => ['running', 'error', 'not-isolated'].includes((window as unknown as Win).vbusDemo?.state), null, T);
  return { page, problems };
}

/** Both guests receive frames from the other side of the switch, and the switch counts them. */
async function framesCross(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const g = (window as unknown as Win).vbusDemo.lab.guests;
    return g.get('guest-left')!.counters.framesRx > 200 && g.get('guest-right')!.counters.framesRx > 200;
  }, null, T);
  const r = await page.evaluate(() => {
    const d = (window as unknown as Win).vbusDemo;
    const g = [...d.lab.guests.values()].map((x) => x.counters);
    return { switched: Number(d.lab.host.device('sw0').attr('tx_frames')), bad: g.reduce((a, c) => a + c.framesBad + c.diskMismatches, 0), reads: g.reduce((a, c) => a + c.diskReads, 0) };
  });
  expect(r.switched).toBeGreaterThan(400);
  expect(r.bad).toBe(0);
}

describe('static build', () => {
  it('builds a folder with the pages, the runtime and the coi-serviceworker shim', () => {
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    expect(html).toContain('<script src="./coi-serviceworker.js"></script>');
    expect(readFileSync(join(out, 'coi-serviceworker.js'), 'utf8')).toContain('Cross-Origin-Embedder-Policy');
    expect(readFileSync(join(out, 'dist/src/browser.js'), 'utf8')).toContain('installPlatform');
  });

  it('without COOP/COEP but with service workers: the shim isolates the page, which runs on shared memory', async () => {
    const browser = await launchChromium({ serviceWorkers: 'allow' });
    try {
      const { page, problems } = await openDemo(browser);
      const d = await page.evaluate(() => { const v = (window as unknown as Win).vbusDemo; return { state: v.state, error: v.error, transport: v.transport, isolation: v.isolation }; });
      expect(d).toEqual({ state: 'running', error: null, transport: 'shared', isolation: 'service-worker' });
      expect(await page.evaluate(() => crossOriginIsolated && typeof SharedArrayBuffer === 'function')).toBe(true);
      expect(await page.evaluate(() => (window as unknown as Win).vbusDemo.lab.host.buses().map((b) => b.transport))).toEqual(['shared', 'shared']);
      expect(await page.textContent('#status')).toContain('isolated by a service worker');
      await framesCross(page);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('without COOP/COEP and without service workers: the message transport, and frames still cross the switch', async () => {
    const browser = await launchChromium({ serviceWorkers: 'block' });
    try {
      const { page, problems } = await openDemo(browser);
      const d = await page.evaluate(() => { const v = (window as unknown as Win).vbusDemo; return { state: v.state, error: v.error, transport: v.transport, isolation: v.isolation }; });
      expect(d).toEqual({ state: 'running', error: null, transport: 'message', isolation: 'none' });
      expect(await page.evaluate(() => crossOriginIsolated || typeof SharedArrayBuffer !== 'undefined')).toBe(false);
      expect(await page.evaluate(() => (window as unknown as Win).vbusDemo.lab.host.buses().map((b) => b.transport))).toEqual(['message', 'message']);
      expect(await page.textContent('#status')).toContain('Message transport');
      expect(await page.evaluate(() => document.body.dataset.transport)).toBe('message');
      await framesCross(page);
      expect(await page.textContent('#tree')).toContain('transport');
      // Playwright's blocker answers register() with no registration, and the shim then reads
      // `registration.scope`; a browser with service workers off rejects instead. Nothing else may fail.
      expect(problems.filter((p) => p !== "pageerror: Cannot read properties of undefined (reading 'scope')")).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

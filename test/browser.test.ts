// The runtime in real Chromium: the foundation page (web/echo.html) runs the echo host on the page's
// main thread and the echo guest in a module Web Worker over one shared memory. Served
// without COOP/COEP, the same page must say which headers are missing.
import { mkdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startServer } from '../dist/src/demo/serve.js';
import { launchChromium } from './helpers/chromium.js';
import type { Chromium } from './helpers/chromium.js';

interface DemoState {
  state: string;
  error: string | null;
  samples: number;
  guestExit: number | null;
  stats: null | {
    sent: number; received: number; verified: number; mismatches: number; guestEchoed: number;
    toGuest: { raised: number; suppressed: number }; toHost: { raised: number; suppressed: number };
    hostParks: number; firstError: string | null;
  };
}

const readDemo = (page: Page) => page.evaluate(() => JSON.parse(JSON.stringify((window as unknown as { vbusDemo: unknown }).vbusDemo)) as DemoState);

let browser: Chromium;
beforeAll(async () => { browser = await launchChromium(); });
afterAll(async () => { await browser?.close(); });

/** Opens the page and collects page errors and failed requests. */
async function open(url: string) {
  const page = await browser.context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  await page.goto(url);
  return { page, problems };
}

describe('foundation page in Chromium', () => {
  it('runs cross-origin isolated: the worker starts and records flow both ways, verified byte for byte', async () => {
    const server = await startServer({ port: 0, isolate: true });
    try {
      const { page, problems } = await open(`${server.url}echo.html`);
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      await page.waitForFunction(() => (window as unknown as { vbusDemo?: { state: string } }).vbusDemo?.state !== 'loading', null, { timeout: 60_000 });
      const first = await readDemo(page);
      expect(first.error).toBeNull();
      expect(first.state).toBe('running');

      // Counts grow: wait for a later sample with more than 10 000 more round trips.
      await page.waitForFunction(() => {
        const d = (window as unknown as { vbusDemo: DemoState }).vbusDemo;
        return d.stats !== null && d.samples >= 3;
      }, null, { timeout: 60_000 });
      const a = await readDemo(page);
      await page.waitForFunction((base) => {
        const d = (window as unknown as { vbusDemo: DemoState }).vbusDemo;
        return d.stats!.received > base + 10_000 && d.samples >= 5;
      }, a.stats!.received, { timeout: 60_000 });
      const b = await readDemo(page);
      const s = b.stats!;
      expect(s.received).toBeGreaterThan(a.stats!.received);
      expect(s.sent).toBeGreaterThanOrEqual(s.received);
      expect(s.guestEchoed).toBeGreaterThanOrEqual(s.received);
      expect(s.mismatches).toBe(0);
      expect(s.firstError).toBeNull();
      expect(s.verified).toBe(s.received);
      expect(s.toGuest.raised).toBeGreaterThan(0);
      expect(s.toHost.raised + s.toHost.suppressed).toBeGreaterThan(0);

      // What the page shows matches the counters.
      await expect.poll(() => page.textContent('#verified'), { timeout: 10_000 }).toMatch(/^[\d,]+ ok, 0 mismatches$/);
      expect(await page.textContent('#status')).toContain('Cross-origin isolated');
      expect(await page.textContent('#rate')).toMatch(/^[\d,]+$/);

      mkdirSync('test-results', { recursive: true });
      await page.screenshot({ path: 'test-results/browser-foundation.png', fullPage: true });

      // Stop: the guest leaves its loop and exits by itself (exit code 0).
      await page.click('#stop');
      await page.waitForFunction(() => (window as unknown as { vbusDemo: DemoState }).vbusDemo.state === 'stopped', null, { timeout: 30_000 });
      const end = await readDemo(page);
      expect(end.guestExit).toBe(0);
      expect(end.stats!.mismatches).toBe(0);
      expect(problems).toEqual([]);
      await page.close();
    } finally {
      await server.close();
    }
  });

  it('without COOP/COEP shows a clear message naming both headers', async () => {
    const server = await startServer({ port: 0, isolate: false });
    try {
      const { page, problems } = await open(`${server.url}echo.html`);
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
      await page.waitForFunction(() => (window as unknown as { vbusDemo?: { state: string } }).vbusDemo?.state === 'not-isolated', null, { timeout: 60_000 });
      const text = (await page.textContent('#status')) ?? '';
      expect(text).toContain('not cross-origin isolated');
      expect(text).toContain('Cross-Origin-Opener-Policy: same-origin');
      expect(text).toContain('Cross-Origin-Embedder-Policy: require-corp');
      expect(text).not.toMatch(/is not defined/);
      const d = await readDemo(page);
      expect(d.error).toMatch(/^ENOTSUP: /);
      expect(d.stats).toBeNull();
      expect(await page.isHidden('#live')).toBe(true);
      expect(problems).toEqual([]);
      mkdirSync('test-results', { recursive: true });
      await page.screenshot({ path: 'test-results/browser-not-isolated.png', fullPage: true });
      await page.close();
    } finally {
      await server.close();
    }
  });
});

describe('browser platform in Chromium', () => {
  it('Web Workers behave as the platform layer defines: start data, early messages, exit codes, errors', async () => {
    const server = await startServer({ port: 0, isolate: true });
    try {
      const { page, problems } = await open(`${server.url}echo.html`);
      // Evaluated as a string so the test runner's transform leaves its import() alone.
      const probe = readFileSync(new URL('./fixtures/browser-platform-probe.js', import.meta.url), 'utf8');
      const result = await page.evaluate(`(${probe})(${JSON.stringify(server.url)})`) as {
        got: unknown[]; echoExit: number; writerExit: number; seen: number; errors: string[];
        throwerExit: number; idleExit: number; mainCode: string; platform: string;
      };
      expect(result.platform).toBe('browser');
      expect(result.got).toEqual([{ echo: 'one', index: 0 }, { echo: { two: 2 }, index: 1 }, { echo: 'bye', index: 2 }]);
      expect(result.echoExit).toBe(3);
      expect(result.writerExit).toBe(0);
      expect(result.seen).toBe(0x1234);
      expect(result.errors).toHaveLength(1);
      expect(result.errors[0]).toContain('probe-7');
      expect(result.throwerExit).toBe(1);
      expect(result.idleExit).toBe(1);
      expect(result.mainCode).toBe('ENOTSUP');
      expect(problems).toEqual([]);
      await page.close();
    } finally {
      await server.close();
    }
  });
});

// The demo page in real Chromium: the host on the page's main thread, guests as module
// Web Workers that probe their devices, frames crossing a venet-switch between two
// buses, live numbers that move, and a device unlinked from the page producing remove()
// in the guest. Served without COOP/COEP, the page says which headers are missing.
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../dist/src/demo/serve.js';
import { loadTopologyFile } from '../dist/src/topology/load-file.js';
import { launchChromium } from './helpers/chromium.js';
import type { Chromium } from './helpers/chromium.js';
import { ROOT, startRuntime, vbus } from './helpers/cli.js';

interface LogLine { guest: string; event: string; text: string }
interface Sample {
  guestFramesPerSec: number; callsPerSec: number; raised: number; suppressed: number;
  guest: { framesRx: number; diskReads: number; diskWrites: number; diskMismatches: number; framesBad: number; rngBytes: number };
}
interface PageTopology { file: string; name: string; buses: string[]; devices: string[]; links: string[]; guests: string[] }
interface DemoState { state: string; error: string | null; samples: number; tree: string; log: LogLine[]; last: Sample | null; topology: PageTopology | null }

/** A `/sys/vbus` tree without the member ids under each bus's `members` (the guests' ids are the runtime's to choose). */
function withoutMembers(tree: string): string {
  const out: string[] = [];
  let skipDeeperThan = -1;
  for (const line of tree.trim().split('\n')) {
    const depth = line.search(/[|`]-- /);
    if (skipDeeperThan >= 0 && depth > skipDeeperThan) continue;
    skipDeeperThan = line.endsWith('-- members') ? depth : -1;
    out.push(line);
  }
  return out.join('\n');
}

type Win = { vbusDemo: DemoState & { lab: { guests: Map<string, { counters: { framesRx: number } }>; host: { device(n: string): { attr(a: string): string } } } } };

/** The page's state, without the lab object (not cloneable). */
const readDemo = (page: Page) => page.evaluate(() => {
  const d = (window as unknown as Win).vbusDemo;
  return JSON.parse(JSON.stringify({ ...d, lab: undefined })) as DemoState;
});

const T = { timeout: 90_000 };

let browser: Chromium;
beforeAll(async () => { browser = await launchChromium(); });
afterAll(async () => { await browser?.close(); });

async function open(url: string) {
  const page = await browser.context.newPage();
  // Count the page's (main thread's) Atomics waits: the host must only ever use waitAsync.
  await page.addInitScript(() => {
    const counts = { wait: 0, waitAsync: 0 };
    (window as unknown as { atomicsCounts: typeof counts }).atomicsCounts = counts;
    const wait = Atomics.wait;
    const waitAsync = Atomics.waitAsync;
    Atomics.wait = ((...a: Parameters<typeof Atomics.wait>) => { counts.wait++; return wait(...a); }) as typeof Atomics.wait;
    Atomics.waitAsync = ((...a: Parameters<typeof Atomics.waitAsync>) => { counts.waitAsync++; return waitAsync(...a); }) as typeof Atomics.waitAsync;
  });
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  await page.goto(url);
  return { page, problems };
}

const hasLog = (page: Page, guest: string, event: string, text: string) => page.waitForFunction(
  ([g, e, t]) => (window as unknown as Win).vbusDemo.log.some((l) => l.guest === g && l.event === e && l.text.includes(t)),
  [guest, event, text] as const, T);

describe('demo page in Chromium', () => {
  it('runs guests as Web Workers over a switch, shows moving numbers, and an unlink from the page removes the device in the guest', async () => {
    const server = await startServer({ port: 0, isolate: true });
    try {
      const { page, problems } = await open(server.url);
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      await page.waitForFunction(() => (window as unknown as Win).vbusDemo?.state !== 'loading', null, T);
      expect((await readDemo(page)).error).toBeNull();
      expect((await readDemo(page)).state).toBe('running');

      // Two guests, each a module Web Worker running demo-guest.js, each probing its devices.
      await hasLog(page, 'guest-left', 'info', 'in a module Web Worker');
      await hasLog(page, 'guest-right', 'info', 'in a module Web Worker');
      expect(page.workers().filter((w) => w.url().endsWith('/demo-guest.js')).length).toBe(2);
      await hasLog(page, 'guest-left', 'probe', 'virtual-ethernet #0');
      await hasLog(page, 'guest-right', 'probe', 'virtual-ethernet #0');
      await hasLog(page, 'guest-left', 'probe', 'virtual-block #1');
      await hasLog(page, 'guest-right', 'probe', 'virtual-console #1');
      await hasLog(page, 'guest-right', 'probe', 'virtual-entropy #2');

      // What runs came from examples/topologies/demo.yaml, fetched and planned by the
      // code `vbus run` uses: the page names the file, its buses, devices, links and
      // guests are the file's, and its tree is the one `vbus run` builds from that file.
      const file = 'examples/topologies/demo.yaml';
      const planned = await loadTopologyFile(join(ROOT, file));
      const shown = (await readDemo(page)).topology;
      expect(shown).toEqual({
        file, name: planned.name, buses: planned.buses.map((b) => b.name), devices: planned.devices.map((d) => d.name),
        links: planned.links.map((l) => `${l.bus}/${l.device}`), guests: planned.guests.map((g) => g.name),
      });
      expect(await page.textContent('#topology')).toContain(file);
      const pageTree = await page.evaluate(() => (window as unknown as { vbusDemo: { lab: { tree(): string } } }).vbusDemo.lab.tree());
      const runtimeDir = mkdtempSync(join(tmpdir(), 'vbus-page-twin-'));
      const rt = await startRuntime(file, { VBUS_RUNTIME_DIR: runtimeDir }, ['--name', 'page-twin']);
      try {
        const cli = vbus(['--runtime', 'page-twin', 'tree', '/sys/vbus'], { VBUS_RUNTIME_DIR: runtimeDir });
        expect(cli.status).toBe(0);
        expect(withoutMembers(pageTree)).toBe(withoutMembers(cli.stdout));
        expect(pageTree).toContain('members');
      } finally {
        await rt.stop();
        rmSync(runtimeDir, { recursive: true, force: true });
      }

      // Frames cross the switch both ways: each guest receives only frames the other sent
      // (a switch never returns a frame to its sender's port), and sw0 counts deliveries.
      await page.waitForFunction(() => {
        const lab = (window as unknown as Win).vbusDemo.lab;
        return lab.guests.get('guest-left')!.counters.framesRx > 1000 && lab.guests.get('guest-right')!.counters.framesRx > 1000;
      }, null, T);
      const delivered = await page.evaluate(() => Number((window as unknown as Win).vbusDemo.lab.host.device('sw0').attr('tx_frames')));
      expect(delivered).toBeGreaterThan(2000);
      await hasLog(page, 'guest-left', 'info', 'sending unicast');

      // The live numbers move: two later samples with more frames, disk I/O and calls.
      const a = (await readDemo(page));
      await page.waitForFunction((base) => {
        const d = (window as unknown as Win).vbusDemo;
        return d.samples >= base.samples + 2 && d.last!.guest.framesRx > base.rx && d.last!.guest.diskReads > base.disk;
      }, { samples: a.samples, rx: a.last!.guest.framesRx, disk: a.last!.guest.diskReads }, T);
      const b = await readDemo(page);
      expect(b.last!.guestFramesPerSec).toBeGreaterThan(0);
      expect(b.last!.callsPerSec).toBeGreaterThan(0);
      expect(b.last!.raised + b.last!.suppressed).toBeGreaterThan(0);
      expect(b.last!.guest.diskMismatches).toBe(0);
      expect(b.last!.guest.framesBad).toBe(0);
      expect(await page.textContent('#v-frames')).toMatch(/[1-9]/);
      expect(await page.textContent('#v-calls')).toMatch(/[1-9]/);
      // The plot was drawn: the frames canvas holds coloured pixels.
      const inked = await page.evaluate(() => {
        const c = document.getElementById('plot-frames') as HTMLCanvasElement;
        const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < px.length; i += 4) if (px[i + 3]! > 0 && px[i + 2]! > px[i]! + 40) n++;
        return n;
      });
      expect(inked).toBeGreaterThan(50);

      // The tree shows both links of the switch.
      const tree0 = await page.textContent('#tree');
      expect(tree0).toContain('0 -> ../../../instances/left/devices/0');
      expect(tree0).toContain('1 -> ../../../instances/right/devices/0');

      // A few seconds of history in the plots before the picture.
      await page.waitForFunction((n) => (window as unknown as Win).vbusDemo.samples >= n, b.samples + 8, T);
      mkdirSync('test-results', { recursive: true });
      await page.screenshot({ path: 'test-results/browser-demo.png', fullPage: true });

      // Unlink the switch from bus right with the page's button: guest-right gets remove().
      await page.click('button[data-action="unlink"][data-device="sw0"][data-bus="right"]');
      await hasLog(page, 'guest-right', 'remove', 'virtual-ethernet #0');
      await expect.poll(() => page.textContent('#log'), { timeout: 30_000 }).toContain('guest-right remove: virtual-ethernet #0');
      await expect.poll(() => page.textContent('#tree'), { timeout: 30_000 }).not.toContain('instances/right/devices/0');
      expect(await page.textContent('#tree')).toContain('instances/left/devices/0');
      expect(await page.isVisible('button[data-action="link"][data-device="sw0"][data-bus="right"]')).toBe(true);
      // guest-left keeps its port and its other devices; nobody logged an error.
      const c = await readDemo(page);
      expect(c.log.filter((l) => l.event === 'remove').map((l) => `${l.guest} ${l.text}`)).toEqual(['guest-right virtual-ethernet #0: removed']);
      expect(c.log.filter((l) => l.event === 'error')).toEqual([]);

      await page.screenshot({ path: 'test-results/browser-demo-unlinked.png', fullPage: true });

      // The host side never blocked the page: no Atomics.wait on the main thread, many waitAsync.
      const waits = await page.evaluate(() => (window as unknown as { atomicsCounts: { wait: number; waitAsync: number } }).atomicsCounts);
      expect(waits.wait).toBe(0);
      expect(waits.waitAsync).toBeGreaterThan(10);

      // Stop a guest from the page: it closes its devices and exits 0.
      await page.click('button[data-action="stop-guest"][data-guest="guest-left"]');
      await hasLog(page, 'guest-left', 'exit', 'exited with code 0');
      expect(problems).toEqual([]);
      await page.close();
    } finally {
      await server.close();
    }
  });

  it('a topology file the page cannot run is refused before anything starts, naming the file, the line and the rule', async () => {
    const server = await startServer({ port: 0, isolate: true });
    try {
      // uplink.yaml's guests are Node programs (the v86 ping peer): the page refuses them.
      const { page } = await open(`${server.url}?topology=uplink.yaml`);
      await page.waitForFunction(() => (window as unknown as Win).vbusDemo?.state === 'error', null, T);
      const d = await readDemo(page);
      expect(d.error).toMatch(/^EINVAL: topology examples\/topologies\/uplink\.yaml has \d+ error/);
      expect(d.error).toMatch(/examples\/topologies\/uplink\.yaml:\d+:\d+: \/guests\/0\/script: script: guest script \/dist\/src\/v86\/ping-peer-node\.js cannot run in this page/);
      expect(d.topology).toBeNull();
      expect(page.workers()).toHaveLength(0);
      await page.close();
    } finally {
      await server.close();
    }
  });

  it('without COOP/COEP shows a clear message naming both headers', async () => {
    const server = await startServer({ port: 0, isolate: false });
    try {
      const { page, problems } = await open(server.url);
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
      await page.waitForFunction(() => (window as unknown as Win).vbusDemo?.state === 'not-isolated', null, T);
      const text = (await page.textContent('#status')) ?? '';
      expect(text).toContain('not cross-origin isolated');
      expect(text).toContain('Cross-Origin-Opener-Policy: same-origin');
      expect(text).toContain('Cross-Origin-Embedder-Policy: require-corp');
      expect(text).not.toMatch(/is not defined/);
      expect((await readDemo(page)).error).toMatch(/^ENOTSUP: /);
      expect(await page.isHidden('#live')).toBe(true);
      expect(page.workers()).toHaveLength(0);
      expect(problems).toEqual([]);
      await page.close();
    } finally {
      await server.close();
    }
  });
});

/**
 * Every program in examples/ runs as a user would run it (`node examples/...`, the
 * browser one bundled with esbuild and opened in headless Chromium), and every file
 * there is one of them or a file they load. The README quotes them: each
 * `<!-- example: PATH -->` marker is followed by a code block equal to that file.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { launchChromium, type Chromium } from './helpers/chromium.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const RUN_MS = 60_000;

function run(file: string, args: string[] = []): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [file, ...args], { cwd: root, encoding: 'utf8', timeout: RUN_MS });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** What each example file is: a program the tests run, or a file a program loads. */
const PROGRAMS: Record<string, string[]> = {
  'examples/custom-device/host.mjs': ['examples/custom-device/guest.mjs', 'examples/custom-device/counter-class.mjs'],
  'examples/switch/host.mjs': ['examples/switch/guest.mjs'],
  'examples/vdisk/host.mjs': ['examples/vdisk/guest.mjs'],
  'examples/test-kit/counter-check.mjs': [],
  'examples/browser/build.mjs': ['examples/browser/host.js', 'examples/browser/guest.js', 'examples/browser/index.html', 'examples/browser/serve.mjs'],
};

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (n === 'dist' || n === 'node_modules') return [];
    return statSync(p).isDirectory() ? listFiles(p) : [relative(root, p)];
  });
}

describe('examples', () => {
  it('every file in examples/ is a program run below, a file one of them loads, or in a folder another test runs', () => {
    const covered = new Set(Object.entries(PROGRAMS).flatMap(([p, deps]) => [p, ...deps]));
    const mine = new Set([...covered].map((f) => f.split('/').slice(0, 2).join('/')));
    const otherTests = readdirSync(join(root, 'test')).filter((n) => n.endsWith('.test.ts') && n !== 'examples.test.ts')
      .map((n) => readFileSync(join(root, 'test', n), 'utf8')).join('\n');
    const files = listFiles(join(root, 'examples'));
    for (const p of covered) expect(files, p).toContain(p);
    const uncovered = files.filter((f) => {
      const dir = f.split('/').slice(0, 2).join('/');
      return mine.has(dir) ? !covered.has(f) : !otherTests.includes(`${dir}/`) && !otherTests.includes(`'${dir}'`);
    });
    expect(uncovered).toEqual([]);
  });

  it('custom-device: the driver probes the counter, calls it, gets EINVAL for a bad payload, exits 0', () => {
    const r = run('examples/custom-device/host.mjs');
    expect(r.out).toContain('guest says: {"device":0,"added":3,"total":106}');
    expect(r.out).toContain('guest says: {"refused":"EINVAL"}');
    expect(r.out).toContain('guest exited with code 0');
    expect(r.status).toBe(0);
  });

  it('switch: two guests on two buses exchange 100 frames each through a venet-switch', () => {
    const r = run('examples/switch/host.mjs');
    expect(r.out).toMatch(/"guest":"left".*"sent":100,"received":100/);
    expect(r.out).toMatch(/"guest":"right".*"sent":100,"received":100/);
    expect(r.out).toContain('exit codes: 0 0');
    expect(r.out).toContain('1 -> ../../../instances/right/devices/0');
    expect(r.status).toBe(0);
  });

  it('vdisk: writes, flush and read back through a file; the file holds the data', () => {
    const r = run('examples/vdisk/host.mjs');
    expect(r.out).toContain('"readBack":true');
    expect(r.out).toContain('block 1 on file matches');
    expect(r.status).toBe(0);
  });

  it('test-kit: the counter class checked with DeviceHarness and a mock guest', () => {
    const r = run('examples/test-kit/counter-check.mjs');
    expect(r.out).toContain('counter-check: all assertions passed');
    expect(r.status).toBe(0);
  });

  describe('browser (esbuild bundle, headless Chromium)', () => {
    const out = mkdtempSync(join(tmpdir(), 'vbus-example-web-'));
    let browser: Chromium | undefined;
    let server: ReturnType<typeof spawn> | undefined;
    afterAll(async () => {
      await browser?.close();
      server?.kill();
      rmSync(out, { recursive: true, force: true });
    });

    it('builds host and guest as two entries with nothing Node-only in them', () => {
      const r = run('examples/browser/build.mjs', [out]);
      expect(r.status, r.out).toBe(0);
      for (const f of ['host.js', 'guest.js']) {
        const js = readFileSync(join(out, f), 'utf8');
        expect(js).not.toMatch(/from\s*["']node:|require\(["']node:/);
        expect(js).not.toContain('worker_threads');
      }
    });

    it('the page runs the host, the guest worker sends 32 frames through the loopback and gets them back', async () => {
      server = spawn(process.execPath, ['examples/browser/serve.mjs', out, '0'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
      const url = await new Promise<string>((resolve, reject) => {
        server!.stdout!.on('data', (b: Buffer) => { const m = /(http:\/\/\S+)/.exec(String(b)); if (m) resolve(m[1]!); });
        server!.once('exit', (c) => reject(new Error(`serve.mjs exited with ${c}`)));
      });
      browser = await launchChromium();
      const page = await browser.context.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(url);
      await page.waitForSelector('#result[data-done="yes"]', { timeout: 60_000 });
      const result = JSON.parse(await page.textContent('#result') ?? '{}');
      expect(problems).toEqual([]);
      expect(result).toMatchObject({ sent: 32, received: 32 });
      expect(result.tree).toContain('members');
    });
  });
});

describe('README code is the examples\' code', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const quoted = [...readme.matchAll(/<!-- example: (\S+) -->\n```\w*\n([\s\S]*?)```/g)];

  it('quotes the examples, each marker followed by its file verbatim', () => {
    expect(quoted.map((m) => m[1]).sort()).toEqual([
      'examples/custom-device/counter-class.mjs', 'examples/custom-device/guest.mjs', 'examples/custom-device/host.mjs',
      'examples/switch/guest.mjs', 'examples/switch/host.mjs', 'examples/test-kit/counter-check.mjs',
      'examples/vdisk/guest.mjs', 'examples/vdisk/host.mjs', 'examples/browser/build.mjs',
    ].sort());
    for (const [, path, code] of quoted) expect(code, path).toBe(readFileSync(join(root, path!), 'utf8'));
  });

  it('has no other code block that calls the API (no fragments left)', () => {
    const blocks = [...readme.matchAll(/(<!-- example: \S+ -->\n)?```(ts|js|javascript|typescript)\n([\s\S]*?)```/g)];
    const unquoted = blocks.filter((m) => !m[1] && /new VbusHost|joinBus\(|spawnGuest\(/.test(m[3]!));
    expect(unquoted.map((m) => m[3]!.split('\n')[0])).toEqual([]);
  });
});

// `npm start` (`vbus demo`, examples/topologies/demo.yaml) as CI runs it: a short run exits 0, prints the measured rates
// (non-zero frames across the switch, calls and disk I/O) and the /sys/vbus tree with
// both buses, the switch linked to both and each guest a member.
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const script = resolve(root, 'dist/src/cli/main.js');

/** The number in a result line like `  device calls   1,234 calls/s`. */
function rate(out: string, label: string): number {
  const m = new RegExp(`^  ${label}\\s+([\\d,]+) `, 'm').exec(out);
  expect(m, `line "${label}" in:\n${out}`).not.toBeNull();
  return Number(m![1]!.replace(/,/g, ''));
}

describe('vbus demo (npm start)', () => {
  it('runs 3 s, exits 0, prints non-zero rates and the /sys/vbus tree', () => {
    const r = spawnSync(process.execPath, [script, 'demo', '--duration', '3'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(r.error).toBeUndefined();
    expect(r.stderr).toBe('');
    expect(r.status, r.stdout).toBe(0);
    const out = r.stdout;
    expect(rate(out, 'frames across the switch')).toBeGreaterThan(0);
    expect(rate(out, 'device calls')).toBeGreaterThan(0);
    expect(rate(out, 'disk I/O')).toBeGreaterThan(0);
    expect(rate(out, 'entropy')).toBeGreaterThan(0);
    expect(out).toMatch(/, 0 malformed\)/);
    expect(out).toMatch(/, 0 mismatches\)/);
    expect(out).toContain('ok: frames crossed the switch');
    // The tree: the switch on both buses, the other devices on theirs, a member per bus.
    const tree = out.slice(out.indexOf('\n/sys/vbus\n'));
    expect(tree).toMatch(/^\/sys\/vbus$/m);
    for (const line of [
      '0 -> ../../../instances/left/devices/0',
      '1 -> ../../../instances/right/devices/0',
      'device -> ../../../../devices/disk0',
      'device -> ../../../../devices/con0',
      'device -> ../../../../devices/rng0',
    ]) expect(tree).toContain(line);
    expect(tree.match(/-- members\n\s*[|` ]*-- \d+/g)).toHaveLength(2);
    // The progress display ran (non-TTY: one line every 2 s).
    expect(out).toMatch(/frames\/s \| [\d,]+ calls\/s/);
  }, 90_000);

  it.each([
    [['--serve', '--port', '0'], true],
    [['--serve', '--no-isolate', '--port', '0'], false],
  ])('demo %j serves the demo page (COOP/COEP unless --no-isolate), and stops on SIGTERM with exit 0', async (args, isolated) => {
    const child = spawn(process.execPath, [script, 'demo', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolveUrl, reject) => {
        let text = '';
        child.stdout.setEncoding('utf8');
        child.stdout.on('data', (c: string) => {
          text += c;
          const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(text);
          if (m) resolveUrl(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code} before serving: ${text}`)));
      });
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get('cross-origin-opener-policy')).toBe(isolated ? 'same-origin' : null);
      expect(res.headers.get('cross-origin-embedder-policy')).toBe(isolated ? 'require-corp' : null);
      expect(await res.text()).toContain('<script type="module" src="./demo.js">');
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
        child.kill('SIGTERM');
        expect(await exited).toBe(0);
      }
    }
  }, 60_000);

  it('refuses a bad --duration with a message naming it and the rule, exit EINVAL (22), no stack trace', () => {
    const r = spawnSync(process.execPath, [script, 'demo', '--duration', 'soon'], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(22);
    expect(r.stderr).toContain("option '--duration <seconds>' argument 'soon' is invalid");
    expect(r.stderr).toContain('at most 50');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

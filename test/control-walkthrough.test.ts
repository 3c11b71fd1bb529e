// The admin walkthrough typed at a shell: a runtime started with `vbus run` (a child
// process), then every step as its own `vbus` child process. Each step runs in-process
// too, on a host driven through `adminView(host)` (the path view), and the two must print
// the same trees, the same file contents and fail with the same errno; the trees the
// original document prints (test/fixtures/admin-walkthrough.json) must come out too.
// Then spawn, ps and stop against the same runtime.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VbusHost, VbusError, venetTapClass } from '../dist/src/index.js';
import { ROOT, startRuntime, vbus } from './helpers/cli.js';
import { adminView } from '../dist/src/index.js';
import { readWalkthrough } from './fixtures/admin-walkthrough.js';

const BUS = 'beb4df8f-7483-4028-b3f7-767512e2a18c';
const DEV = '6a1aff24-5dc0-4aea-9c35-435daef90e55';
const work = mkdtempSync(join(tmpdir(), 'vbus-walk-'));
const env = { VBUS_RUNTIME_DIR: join(work, 'rt'), VBUS_GRANT_DIR: join(work, 'grants') };

const doc = readWalkthrough();

type Step =
  | { cmd: 'tree'; path: string; /** the document's tree block this prints */ block?: number }
  | { cmd: 'cat' | 'ls' | 'readlink'; path: string }
  | { cmd: 'mkdir' | 'rmdir' | 'rm'; path: string }
  | { cmd: 'write'; path: string; value: string }
  | { cmd: 'ln'; target: string; link: string }
  | { cmd: 'modprobe' | 'rmmod'; name: string };

/** The walkthrough, in the original's order (the document's `echo`, `ln -s`, `tree`, `cat`). */
const STEPS: Step[] = [
  { cmd: 'tree', path: '/sys/vbus/', block: 0 },
  { cmd: 'tree', path: '/config/vbus/', block: 1 },
  { cmd: 'modprobe', name: 'venet-tap' },
  { cmd: 'tree', path: '/sys/vbus', block: 2 },
  { cmd: 'mkdir', path: `/config/vbus/instances/${BUS}` },
  { cmd: 'tree', path: '/sys/vbus/', block: 3 },
  { cmd: 'mkdir', path: `/config/vbus/devices/${DEV}` },
  { cmd: 'tree', path: '/sys/vbus', block: 4 },
  { cmd: 'write', path: `/config/vbus/devices/${DEV}/type`, value: 'foo' },
  { cmd: 'tree', path: '/sys/vbus/deviceclass/', block: 5 },
  { cmd: 'write', path: `/config/vbus/devices/${DEV}/type`, value: 'venet-tap' },
  { cmd: 'tree', path: '/sys/vbus/', block: 6 },
  { cmd: 'ln', target: `/config/vbus/devices/${DEV}/`, link: `/config/vbus/instances/${BUS}/` },
  { cmd: 'tree', path: '/sys/vbus/', block: 7 },
  { cmd: 'tree', path: `/sys/vbus/devices/${DEV}/interfaces/`, block: 8 },
  { cmd: 'tree', path: `/sys/vbus/instances/${BUS}/devices/`, block: 9 },
  { cmd: 'readlink', path: `/sys/vbus/devices/${DEV}/interfaces/0` },
  { cmd: 'write', path: '/proc/4382/vbus', value: BUS },
  { cmd: 'write', path: '/proc/4588/vbus', value: BUS },
  { cmd: 'tree', path: '/sys/vbus/', block: 10 },
  { cmd: 'cat', path: `/sys/vbus/instances/${BUS}/devices/0/type` },
  { cmd: 'cat', path: `/sys/vbus/devices/${DEV}/ifname` },
  { cmd: 'ls', path: `/config/vbus/instances/${BUS}` },
  { cmd: 'rmmod', name: 'venet-tap' },
  { cmd: 'rmdir', path: `/config/vbus/instances/${BUS}` },
  { cmd: 'write', path: '/proc/4588/vbus', value: '0' },
  { cmd: 'write', path: '/proc/4382/vbus', value: '0' },
  { cmd: 'rm', path: `/config/vbus/instances/${BUS}/${DEV}` },
  { cmd: 'rmdir', path: `/config/vbus/instances/${BUS}` },
  { cmd: 'rmdir', path: `/config/vbus/devices/${DEV}` },
  { cmd: 'tree', path: '/sys/vbus', block: 2 },
  { cmd: 'rmmod', name: 'venet-tap' },
  { cmd: 'tree', path: '/sys/vbus/', block: 0 },
  { cmd: 'tree', path: '/config/vbus/', block: 1 },
];

function argv(s: Step): string[] {
  switch (s.cmd) {
    case 'write': return ['write', s.path, s.value];
    case 'ln': return ['ln', '-s', s.target, s.link];
    case 'modprobe': case 'rmmod': return [s.cmd, s.name];
    default: return [s.cmd, s.path];
  }
}

/** The same step on an in-process host: what the shell would print, or the errno. */
function inProcess(host: VbusHost, s: Step): { out: string } | { errno: number; code: string } {
  const a = adminView(host);
  try {
    switch (s.cmd) {
      case 'tree': return { out: a.tree(s.path) };
      case 'cat': return { out: a.read(s.path) };
      case 'ls': return { out: a.readdir(s.path).map((n) => n + '\n').join('') };
      case 'readlink': return { out: a.readlink(s.path) + '\n' };
      case 'mkdir': a.mkdir(s.path); break;
      case 'rmdir': a.rmdir(s.path); break;
      case 'rm': a.unlink(s.path); break;
      case 'write': a.write(s.path, s.value); break;
      case 'ln': a.symlink(s.target, s.link); break;
      case 'modprobe': host.registerClass(venetTapClass); break;
      case 'rmmod': host.unregisterClass(s.name); break;
    }
    return { out: '' };
  } catch (e) {
    if (e instanceof VbusError) return { errno: e.errno, code: e.code };
    throw e;
  }
}

let rt: Awaited<ReturnType<typeof startRuntime>>;
beforeAll(async () => { rt = await startRuntime(join(ROOT, 'test/fixtures/topologies/empty.yaml'), env); });
afterAll(async () => { await rt?.stop(); rmSync(work, { recursive: true, force: true }); });

describe('the admin walkthrough with vbus against a live runtime', () => {
  it('every step prints what the in-process path view prints (trees, contents, errnos)', () => {
    const host = new VbusHost();
    const failures: string[] = [];
    for (const [i, s] of STEPS.entries()) {
      const want = inProcess(host, s);
      const got = vbus(['--runtime', 'walkthrough', ...argv(s)], env);
      const label = `step ${i}: vbus ${argv(s).join(' ')}`;
      if ('errno' in want) {
        expect(got.status, `${label}\n${got.stderr}`).toBe(want.errno);
        expect(got.stderr, label).toContain(`vbus: ${want.code}: `);
        expect(got.stdout, label).toBe('');
      } else {
        expect(got.status, `${label}\n${got.stderr}`).toBe(0);
        if (got.stdout !== want.out) failures.push(`${label}\n--- cli\n${got.stdout}--- in-process\n${want.out}`);
        if (s.cmd === 'tree' && s.block !== undefined && got.stdout !== doc.blocks[s.block]!.text) failures.push(`${label}\n--- cli\n${got.stdout}--- document block ${s.block}\n${doc.blocks[s.block]!.text}`);
      }
    }
    expect(failures).toEqual([]);
    expect(STEPS.filter((x) => x.cmd === 'tree' && x.block !== undefined)).toHaveLength(14); // every block of the document, some twice
    host.release();
  });

  it('the failed echo foo > type names the path and changes nothing', () => {
    expect(vbus(['--runtime', 'walkthrough', 'mkdir', `/config/vbus/devices/${DEV}`], env).status).toBe(0);
    const before = vbus(['--runtime', 'walkthrough', 'tree', '/config/vbus'], env).stdout;
    const r = vbus(['--runtime', 'walkthrough', 'write', `/config/vbus/devices/${DEV}/type`, 'foo'], env);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`write /config/vbus/devices/${DEV}/type: No such file or directory`);
    expect(vbus(['--runtime', 'walkthrough', 'tree', '/config/vbus'], env).stdout).toBe(before);
    expect(vbus(['--runtime', 'walkthrough', 'rmdir', `/config/vbus/devices/${DEV}`], env).status).toBe(0);
  });

  it('--json gives the same results as values', () => {
    const r = vbus(['--json', 'ls', '/sys/vbus'], env);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(['deviceclass', 'devices', 'instances', 'version']);
  });

  it('spawn starts a guest on a bus: it is a member there and /proc/ID/vbus names the bus', () => {
    const run = (...a: string[]) => vbus(['--runtime', 'walkthrough', ...a], env);
    expect(run('mkdir', '/config/vbus/instances/spawnbus').status).toBe(0);
    const r = run('--json', 'spawn', 'spawnbus', 'test/fixtures/idle-guest.mjs', '--name', 'idle');
    expect(r.status, r.stderr).toBe(0);
    const { member, bus } = JSON.parse(r.stdout) as { member: number; bus: string };
    expect(bus).toBe('spawnbus');
    expect(run('ls', '/sys/vbus/instances/spawnbus/members').stdout).toBe(`${member}\n`);
    expect(run('cat', `/proc/${member}/vbus`).stdout).toBe('spawnbus\n');
    // The bus is busy while its guest is a member; the guest leaves (its worker is stopped), then it goes.
    expect(run('rmdir', '/config/vbus/instances/spawnbus').status).toBe(16);
    expect(run('write', `/proc/${member}/vbus`, '0').status).toBe(0);
    expect(run('rmdir', '/config/vbus/instances/spawnbus').status).toBe(0);
    expect(run('spawn', 'nobus', 'test/fixtures/idle-guest.mjs').status).toBe(2);
  });

  it('ps lists the runtime with its pid; stop ends it and removes its socket', async () => {
    const ps = vbus(['--json', 'ps'], env);
    expect(ps.status, ps.stderr).toBe(0);
    const list = JSON.parse(ps.stdout) as Array<{ name: string; hello?: { pid: number; scope: string } }>;
    expect(list.map((x) => [x.name, x.hello?.pid, x.hello?.scope])).toEqual([['walkthrough', rt.ready.pid, 'owner']]);
    expect(vbus(['ps'], env).stdout).toMatch(new RegExp(`^walkthrough\\s+${rt.ready.pid}\\s`, 'm'));
    expect(vbus(['--runtime', 'walkthrough', 'stop'], env).status).toBe(0);
    expect(await rt.stop()).toBe(0);
    expect(existsSync(rt.ready.socket)).toBe(false);
    expect(vbus(['--runtime', 'walkthrough', 'ls', '/'], env).status).toBe(2);
  });
});

// Security of the control socket between Unix users (we run as root and make a second
// user for the test, removed after): another user cannot connect to a runtime's socket
// nor list its runtime directory; a runtime refuses a directory others can write or
// that belongs to someone else; a client holding a capability for one bus (vbus grant),
// here the other user through the grant socket, sees and administers that bus alone:
// other buses are ENOENT, everything else EACCES, and no refusal changes anything.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inBatches, ROOT, VBUS, startRuntime, vbus, vbusAsync, type CliResult } from './helpers/cli.js';

const USER = 'vbus-test-other';
const work = mkdtempSync(join(tmpdir(), 'vbus-sec-'));
chmodSync(work, 0o755); // only the runtime's own directory modes keep the other user out
const env = { VBUS_RUNTIME_DIR: join(work, 'rt'), VBUS_GRANT_DIR: join(work, 'grants') };
let uid = -1;
let rt: Awaited<ReturnType<typeof startRuntime>>;

/** `vbus ARGS` as the other user. */
function asOther(args: string[], extraEnv: Record<string, string> = {}): CliResult {
  const e = Object.entries({ ...env, ...extraEnv }).map(([k, v]) => `${k}=${v}`);
  const r = spawnSync('runuser', ['-u', USER, '--', 'env', ...e, process.execPath, VBUS, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same, without blocking (the refusals run a few at a time). */
function asOtherAsync(args: string[], extraEnv: Record<string, string> = {}): Promise<CliResult> {
  const e = Object.entries({ ...env, ...extraEnv }).map(([k, v]) => `${k}=${v}`);
  return vbusAsync(args, {}, ['runuser', '-u', USER, '--', 'env', ...e, process.execPath, VBUS]);
}

/** The owner's full picture of the state, to check that refusals change nothing. */
function ownerState(): string {
  return ['/sys/vbus', '/config/vbus'].map((p) => vbus(['--runtime', 'secure', 'tree', p], env).stdout).join('')
    + vbus(['--runtime', 'secure', 'cat', '/sys/vbus/devices/rng1/quota_bytes_per_s'], env).stdout;
}

beforeAll(async () => {
  if (spawnSync('id', ['-u', USER]).status !== 0) execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', USER]);
  uid = Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' }).trim());
  rt = await startRuntime(join(ROOT, 'test/fixtures/topologies/two-buses.yaml'), env);
});
afterAll(async () => {
  await rt?.stop();
  rmSync(work, { recursive: true, force: true });
  spawnSync('userdel', [USER]);
});

describe('control socket between users', () => {
  it('the runtime directory is 0700 and the socket 0600, both the starting user\'s', () => {
    const d = statSync(env.VBUS_RUNTIME_DIR);
    const s = statSync(rt.ready.socket);
    expect([d.mode & 0o777, d.uid]).toEqual([0o700, process.getuid!()]);
    expect([s.mode & 0o777, s.uid, s.isSocket()]).toEqual([0o600, process.getuid!(), true]);
  });

  it('another user can neither connect nor list the runtimes', () => {
    const ls = asOther(['--socket', rt.ready.socket, 'ls', '/sys/vbus']);
    expect(ls.status, ls.stderr).toBe(13);
    expect(ls.stderr).toContain('EACCES');
    const ps = asOther(['ps']);
    expect(ps.status, ps.stderr).toBe(13);
    expect(ps.stderr).toContain(`cannot list runtime directory ${env.VBUS_RUNTIME_DIR}`);
    const named = asOther(['--runtime', 'secure', 'tree', '/sys/vbus']);
    expect(named.status).toBe(13);
  });

  it('refuses to start in a world-writable directory, or one of another user; nothing is created', () => {
    const ww = join(work, 'world-writable');
    mkdirSync(ww);
    chmodSync(ww, 0o777);
    const r = vbus(['run', 'test/fixtures/topologies/empty.yaml'], { VBUS_RUNTIME_DIR: ww });
    expect(r.status).toBe(13);
    expect(r.stderr).toContain(`runtime directory ${ww} is writable by other users (mode 777)`);
    expect(readdirSync(ww)).toEqual([]);
    expect(statSync(ww).mode & 0o777).toBe(0o777);
    const theirs = join(work, 'theirs');
    mkdirSync(theirs, { mode: 0o700 });
    chownSync(theirs, uid, uid);
    const t = vbus(['run', 'test/fixtures/topologies/empty.yaml'], { VBUS_RUNTIME_DIR: theirs });
    expect(t.status).toBe(13);
    expect(t.stderr).toContain(`belongs to uid ${uid}`);
    expect(readdirSync(theirs)).toEqual([]);
  });

  it('a delegated client (the other user, through the grant socket) sees and administers its bus alone', async () => {
    const g = vbus(['--runtime', 'secure', '--json', 'grant', 'b1'], env);
    expect(g.status, g.stderr).toBe(0);
    const { socket, token, bus } = JSON.parse(g.stdout) as { socket: string; token: string; bus: string };
    expect(bus).toBe('b1');
    expect(statSync(join(work, 'grants')).mode & 0o777).toBe(0o711);
    const as = (...args: string[]) => asOther(['--socket', socket, ...args], { VBUS_TOKEN: token });

    // What it may do.
    expect(JSON.parse(as('--json', 'ls', '/sys/vbus/instances').stdout)).toEqual(['b1']);
    expect(JSON.parse(as('--json', 'ls', '/config/vbus/instances').stdout)).toEqual(['b1']);
    const tree = as('tree', '/sys/vbus/instances/b1');
    expect(tree.status, tree.stderr).toBe(0);
    expect(tree.stdout).toBe(vbus(['--runtime', 'secure', 'tree', '/sys/vbus/instances/b1'], env).stdout);
    expect(as('cat', '/sys/vbus/instances/b1/devices/0/type').stdout).toBe('virtual-entropy\n');
    expect(as('cat', '/sys/vbus/instances/b1/devices/0/device/requests').stdout).toBe('0\n'); // through the link to its device
    const hello = JSON.parse(as('--json', 'top', '--once').stdout) as { devices: Array<{ name: string }> };
    expect(hello.devices.map((d) => d.name).sort()).toEqual(['lo1', 'rng1']);

    // Refusals: other buses do not exist, anything else is EACCES, and none changes anything.
    const before = ownerState();
    const refusals: Array<[string[], number]> = [
      [['ls', '/sys/vbus/instances/b2'], 2],
      [['cat', '/sys/vbus/instances/b2/devices/0/type'], 2],
      [['tree', '/config/vbus/instances/b2'], 2],
      [['rm', '/config/vbus/instances/b2/rng2'], 2],
      [['rmdir', '/config/vbus/instances/b2'], 2],
      [['cat', '/sys/vbus/instances/b1/devices/0/device/../../../../../instances/b2/devices/0/type'], 2],
      [['ls', '/sys/vbus/devices'], 13],
      [['tree', '/sys/vbus'], 13],
      [['cat', '/sys/vbus/devices/rng2/requests'], 13],
      [['write', '/sys/vbus/devices/rng2/quota_bytes_per_s', '5'], 13],
      [['ls', '/sys/vbus/deviceclass'], 13],
      [['ls', '/sys/vbus/instances/b1/devices/0/device/interfaces'], 13],
      [['mkdir', '/config/vbus/instances/b3'], 13],
      [['mkdir', '/config/vbus/devices/d9'], 13],
      [['rmdir', '/config/vbus/instances/b1'], 13],
      [['ln', '-s', '/config/vbus/devices/rng2', '/config/vbus/instances/b1/'], 13],
      [['write', '/proc/77/vbus', 'b1'], 13],
      [['modprobe', 'vdisk'], 13],
      [['grant', 'b1'], 13],
      [['spawn', 'b1', 'test/fixtures/idle-guest.mjs'], 13],
      [['stop'], 13],
    ];
    const results = await inBatches(refusals.map(([args]) => () => asOtherAsync(['--socket', socket, ...args], { VBUS_TOKEN: token })));
    refusals.forEach(([args, code], i) => {
      expect(results[i]!.status, `${args.join(' ')}: ${results[i]!.stderr}`).toBe(code);
    });
    expect(ownerState()).toBe(before);

    // Without the token, or with a wrong one, the grant socket gives nothing.
    expect(asOther(['--socket', socket, 'ls', '/sys/vbus/instances/b1']).status).toBe(13);
    expect(asOther(['--socket', socket, '--token', 'x' + token.slice(1), 'ls', '/sys/vbus/instances/b1']).status).toBe(13);

    // Administering its bus: a device's attribute, then unlinking a device from it.
    expect(as('write', '/sys/vbus/instances/b1/devices/0/device/quota_bytes_per_s', '4096').status).toBe(0);
    expect(vbus(['--runtime', 'secure', 'cat', '/sys/vbus/devices/rng1/quota_bytes_per_s'], env).stdout).toBe('4096\n');
    const rm = as('rm', '/config/vbus/instances/b1/lo1');
    expect(rm.status, rm.stderr).toBe(0);
    expect(vbus(['--runtime', 'secure', 'ls', '/config/vbus/instances/b1'], env).stdout).toBe('rng1\n');
    expect(existsSync(socket)).toBe(true);
  });
});

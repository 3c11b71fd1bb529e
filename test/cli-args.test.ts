// `vbus` as a command line: --help on every command, usage errors (unknown or misspelt
// options, missing values) exit EINVAL (22) with a message naming the option and no
// stack trace, and errors of the runtime exit with their errno.
import { beforeAll, describe, expect, it } from 'vitest';
import { inBatches, vbus, vbusAsync, type CliResult } from './helpers/cli.js';

const COMMANDS = ['demo', 'serve', 'run', 'ls', 'tree', 'cat', 'readlink', 'write', 'mkdir', 'rmdir', 'ln', 'rm', 'modprobe', 'rmmod', 'spawn', 'grant', 'stop', 'ps', 'top'];
const noStack = (s: string): void => { expect(s).not.toMatch(/\n\s+at .*:\d+:\d+/); };

const helps = new Map<string, CliResult>();
beforeAll(async () => {
  const rs = await inBatches(COMMANDS.map((c) => () => vbusAsync([c, '--help'])));
  COMMANDS.forEach((c, i) => helps.set(c, rs[i]!));
}, 300_000);

describe('vbus command line', () => {
  it('vbus --help lists every command, exit 0', () => {
    const r = vbus(['--help']);
    expect(r.status).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
  });

  it.each(COMMANDS)('vbus %s --help prints its usage, exit 0', (c) => {
    const r = helps.get(c)!;
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Usage: vbus ${c}`);
    expect(r.stderr).toBe('');
  });

  it.each([
    [['demo', '--prot', '9000'], "unknown option '--prot'"],
    [['serve', '--prot', '9000'], "unknown option '--prot'"],
    [['demo', '--serve', '--port'], "option '--port <n>' argument missing"],
    [['serve', '--port', 'eighty'], "option '--port <n>' argument 'eighty' is invalid"],
    [['serve', '--port', '70000'], 'from 0 to 65535'],
    [['demo', '--duration', '0'], 'above 0 and at most 50'],
    [['frobnicate'], "unknown command 'frobnicate'"],
    [['tree'], "missing required argument 'path'"],
    [['spawn', 'bus0', 'x.js', '--data', '{bad'], 'must be JSON'],
  ])('vbus %j is a usage error: exit 22, message names it, no stack', (args, text) => {
    const r = vbus(args);
    expect(r.status).toBe(22);
    expect(r.stderr).toContain(text);
    noStack(r.stderr);
  });

  it('an unknown runtime exits ENOENT (2) naming the socket', () => {
    const r = vbus(['--runtime', 'nosuch', 'ls', '/'], { VBUS_RUNTIME_DIR: '/tmp/vbus-cli-args-none' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('/tmp/vbus-cli-args-none/nosuch.sock');
    noStack(r.stderr);
  });

  it('a missing topology file exits ENOENT (2)', () => {
    const r = vbus(['run', 'no/such/topology.yaml']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('no/such/topology.yaml does not exist');
  });
});

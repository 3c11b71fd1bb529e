// Topology files (`vbus run FILE`): a good one builds; each kind of broken one exits
// EINVAL (22) with FILE:LINE:COL, the JSON pointer and the rule broken, and starts
// nothing (no control socket appears, no guest runs: the marker guest never writes).
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inBatches, ROOT, vbus, vbusAsync, type CliResult } from './helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'vbus-topo-'));
const rtDir = join(work, 'rt');
const marker = join(work, 'marker');
const env = { VBUS_RUNTIME_DIR: rtDir, VBUS_TEST_MARKER: marker };
const fixtures = join(ROOT, 'test/fixtures/topologies');
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A valid document the cases break one piece of (line numbers below count from 1). */
const GOOD = `version: 1
classes:
  - builtin: vdisk
  - module: ${fixtures}/classes.mjs
    export: echoClass
buses:
  - name: b0
    memory: 1MiB
devices:
  - name: d0
    type: vdisk
    attributes:
      capacity: 1MiB
  - name: e0
    type: test-echo
    attributes: { level: 3 }
links:
  - { bus: b0, device: d0 }
  - { bus: b0, device: e0 }
guests:
  - { bus: b0, script: ${fixtures}/marker-guest.mjs, count: 2 }
`;

function replaceLine(doc: string, line: number, text: string): string {
  const lines = doc.split('\n');
  lines[line - 1] = text;
  return lines.join('\n');
}

interface Case { name: string; text: string; ext?: string; rule: string; path: string; line?: number }

const CASES: Case[] = [
  { name: 'YAML syntax error', text: GOOD.replace('  - { bus: b0, device: d0 }', '  - { bus: b0, device: d0'), rule: 'yaml-syntax', path: '/', line: 19 },
  { name: 'JSON syntax error', ext: 'json', text: '{\n  "version": 1,\n  "buses": [,]\n}\n', rule: 'json-syntax', path: '/', line: 3 },
  { name: 'duplicate key', text: GOOD.replace('    memory: 1MiB', '    memory: 1MiB\n    memory: 2MiB'), rule: 'unique-key', path: '/', line: 9 },
  { name: 'wrong version', text: replaceLine(GOOD, 1, 'version: 2'), rule: 'const', path: '/version', line: 1 },
  { name: 'missing version', text: replaceLine(GOOD, 1, '# no version'), rule: 'required', path: '/' },
  { name: 'unknown top-level key', text: GOOD + 'busses: []\n', rule: 'additionalProperties', path: '/busses', line: 22 },
  { name: 'unknown device key', text: replaceLine(GOOD, 11, '    kind: vdisk'), rule: 'additionalProperties', path: '/devices/0/kind', line: 11 },
  { name: 'wrong type (buses not a list)', text: GOOD.replace('buses:\n  - name: b0\n    memory: 1MiB', 'buses:\n  name: b0'), rule: 'type', path: '/buses', line: 7 },
  { name: 'device without type', text: GOOD.replace('    type: vdisk\n', ''), rule: 'required', path: '/devices/0', line: 10 },
  { name: 'bad placement', text: GOOD.replace('    type: vdisk\n', '    type: vdisk\n    placement: cloud\n'), rule: 'enum', path: '/devices/0/placement', line: 12 },
  { name: 'bad bus name', text: replaceLine(GOOD, 7, '  - name: a/b'), rule: 'pattern', path: '/buses/0/name', line: 7 },
  { name: 'bad memory text', text: replaceLine(GOOD, 8, '    memory: lots'), rule: 'pattern', path: '/buses/0/memory', line: 8 },
  { name: 'memory too small', text: replaceLine(GOOD, 8, '    memory: 4096'), rule: 'minimum', path: '/buses/0/memory', line: 8 },
  { name: 'guest count out of range', text: GOOD.replace('count: 2', 'count: 0'), rule: 'minimum', path: '/guests/0/count', line: 21 },
  { name: 'unknown built-in class', text: replaceLine(GOOD, 3, '  - builtin: vdisc'), rule: 'known-class', path: '/classes/0/builtin', line: 3 },
  { name: 'class entry with neither builtin nor module', text: replaceLine(GOOD, 3, '  - {}'), rule: 'class-source', path: '/classes/0', line: 3 },
  { name: 'missing class module', text: GOOD.replace(`${fixtures}/classes.mjs`, './nowhere.mjs'), rule: 'module-exists', path: '/classes/1/module', line: 4 },
  { name: 'missing class export', text: GOOD.replace('export: echoClass', 'export: nope'), rule: 'module-export', path: '/classes/1/export', line: 5 },
  { name: 'export that is not a class', text: GOOD.replace('export: echoClass', 'export: notAClass'), rule: 'class-spec', path: '/classes/1', line: 4 },
  { name: 'duplicate bus name', text: GOOD.replace('    memory: 1MiB\n', '    memory: 1MiB\n  - name: b0\n'), rule: 'unique-name', path: '/buses/1/name', line: 9 },
  { name: 'duplicate device name', text: replaceLine(GOOD, 14, '  - name: d0'), rule: 'unique-name', path: '/devices/1/name', line: 14 },
  { name: 'device of a class not loaded', text: replaceLine(GOOD, 15, '    type: vrng'), rule: 'known-class', path: '/devices/1/type', line: 15 },
  { name: 'unknown attribute', text: replaceLine(GOOD, 13, '      capacty: 1MiB'), rule: 'known-attribute', path: '/devices/0/attributes/capacty', line: 13 },
  { name: 'bad attribute value', text: replaceLine(GOOD, 13, '      capacity: lots'), rule: 'attribute-value', path: '/devices/0/attributes/capacity', line: 13 },
  { name: 'bad attribute value (user class parser)', text: GOOD.replace('level: 3', 'level: 42'), rule: 'attribute-value', path: '/devices/1/attributes/level', line: 16 },
  { name: 'read-only attribute', text: replaceLine(GOOD, 13, '      reads: 5'), rule: 'writable-attribute', path: '/devices/0/attributes/reads', line: 13 },
  { name: 'attribute of the wrong type', text: replaceLine(GOOD, 13, '      capacity: [1]'), rule: 'type', path: '/devices/0/attributes/capacity', line: 13 },
  { name: 'link to a missing bus', text: GOOD.replace('{ bus: b0, device: d0 }', '{ bus: b9, device: d0 }'), rule: 'known-bus', path: '/links/0/bus', line: 18 },
  { name: 'link of a missing device', text: GOOD.replace('{ bus: b0, device: d0 }', '{ bus: b0, device: d9 }'), rule: 'known-device', path: '/links/0/device', line: 18 },
  { name: 'the same link twice', text: GOOD.replace('{ bus: b0, device: e0 }', '{ bus: b0, device: d0 }'), rule: 'unique-link', path: '/links/1', line: 19 },
  { name: 'guest on a missing bus', text: GOOD.replace('- { bus: b0, script', '- { bus: b7, script'), rule: 'known-bus', path: '/guests/0/bus', line: 21 },
  { name: 'missing guest script', text: GOOD.replace(`${fixtures}/marker-guest.mjs`, './no-guest.mjs'), rule: 'script', path: '/guests/0/script', line: 21 },
  { name: 'backend placement for a class without one', text: GOOD.replace('    type: test-echo\n', '    type: test-echo\n    placement: backend\n'), rule: 'placement', path: '/devices/1/placement', line: 16 },
];

const fileOf = (c: Case): string => join(work, `${c.name.replace(/\W+/g, '-')}.${c.ext ?? 'yaml'}`);
const results = new Map<Case, CliResult>();
// The broken files are independent: run them a few at a time (each is its own process).
beforeAll(async () => {
  for (const c of CASES) writeFileSync(fileOf(c), c.text);
  const rs = await inBatches(CASES.map((c) => () => vbusAsync(['run', fileOf(c)], env)));
  CASES.forEach((c, i) => results.set(c, rs[i]!));
}, 300_000);

describe('topology files', () => {
  it('the good document validates (--check) and runs (guests start, the socket appears, --duration stops it)', () => {
    const f = join(work, 'good.yaml');
    writeFileSync(f, GOOD);
    const check = vbus(['--json', 'run', f, '--check'], env);
    expect(check.status, check.stderr).toBe(0);
    const plan = JSON.parse(check.stdout);
    expect(plan.guests).toEqual([{ bus: 'b0', name: 'b0-guest-1' }, { bus: 'b0', name: 'b0-guest-2' }]);
    expect(existsSync(marker)).toBe(false); // --check starts nothing either
    const run = vbus(['--json', 'run', f, '--duration', '1'], env);
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout.split('\n')[0]!)).toMatchObject({ ready: true, name: 'good', socket: join(rtDir, 'good.sock') });
    expect(existsSync(marker)).toBe(true);
    expect(readdirSync(rtDir)).toEqual([]); // the socket is removed on stop
    rmSync(marker);
  });

  it('the demo topology (examples/topologies/demo.yaml) validates', () => {
    const r = vbus(['run', 'examples/topologies/demo.yaml', '--check'], env);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('ok (2 buses, 4 devices, 5 links, 2 guests)');
  });

  it(`has at least 20 kinds of broken files (${CASES.length})`, () => {
    expect(new Set(CASES.map((c) => c.rule)).size).toBeGreaterThanOrEqual(20);
  });

  it.each(CASES)('$name: exit 22, names file, line, path and rule ($rule), starts nothing', (c) => {
    const f = fileOf(c);
    const r = results.get(c)!;
    expect(r.status, r.stdout + r.stderr).toBe(22);
    const where = c.line !== undefined ? `${f}:${c.line}:` : `${f}`;
    const issue = r.stderr.split('\n').find((l) => l.includes(`: ${c.path}: ${c.rule}: `));
    expect(issue, r.stderr).toBeDefined();
    expect(issue!.startsWith(where), `${issue} should start with ${where}`).toBe(true);
    expect(r.stdout).toBe('');
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(rtDir) ? readdirSync(rtDir) : []).toEqual([]);
  });
});

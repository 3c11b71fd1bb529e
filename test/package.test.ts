/**
 * The package as a user gets it: `npm pack` of this repository (dist/ is the build of
 * the current sources: the tests' global setup sees to it, so the pack skips its
 * prepack build), installed into an empty project, imported from Node (a host that
 * runs a guest worker, both importing `vbus` from node_modules), and the shipped types
 * type-checked by a strict consumer without skipLibCheck.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'vbus-pack-'));
const project = join(work, 'consumer');
let packed: { filename: string; entryCount: number; size: number; files: Array<{ path: string }> };

function sh(cmd: string, args: string[], cwd: string, timeout = 240_000): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

beforeAll(() => {
  const json = sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], root);
  packed = JSON.parse(json)[0];
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, packed.filename)], project);
}, 300_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the packed package', () => {
  it('ships the built runtime (and the pages and topologies the CLI serves), no sources, tests or benchmarks', () => {
    const paths = packed.files.map((f) => f.path);
    console.log(`[package] ${packed.filename}: ${packed.entryCount} files, ${packed.size} bytes packed`);
    expect(paths).toContain('dist/src/index.js');
    expect(paths).toContain('dist/src/browser.js');
    expect(paths).toContain('dist/src/testing/index.d.ts');
    expect(paths.filter((p) => !/^(dist\/|web\/|examples\/topologies\/)/.test(p) && p !== 'package.json' && p !== 'README.md')).toEqual([]);
    expect(paths.filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts'))).toEqual([]);
    expect(paths.filter((p) => /^dist\/(bench|test)\//.test(p) || p.startsWith('test/') || p.startsWith('bench/'))).toEqual([]);
    expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.prepack).toMatch(/build/);
  });

  it('depends at run time on exactly the packages its shipped code imports', () => {
    const imported = new Set<string>();
    for (const { path } of packed.files) {
      if (!path.endsWith('.js') || !path.startsWith('dist/')) continue;
      const js = readFileSync(join(root, path), 'utf8');
      for (const m of js.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"./][^'"]*)['"]|(?:import|import\.meta\.resolve)\(\s*['"]([^'"./][^'"]*)['"]\s*\)/gm)) {
        const spec = m[1] ?? m[2]!;
        if (spec.startsWith('node:')) continue;
        imported.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
      }
    }
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    // Peer dependencies are optional ones the code finds at run time (import.meta.resolve).
    const declared = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})].sort();
    expect([...imported].sort()).toEqual(declared);
    expect(pkg.dependencies.asciichart).toBeUndefined();
  });

  it('installs and runs from Node: a host and a guest worker, both importing vbus', () => {
    writeFileSync(join(project, 'guest.mjs'), [
      "import { joinBus, openVenet } from 'vbus';",
      'const guest = await joinBus();',
      'const net = openVenet(guest, 0);',
      'guest.post({ devices: guest.devices(), mac: net.macText });',
      'net.close();',
      'guest.exit(0);',
    ].join('\n'));
    writeFileSync(join(project, 'host.mjs'), [
      "import { VbusHost, registerVenetClasses, adminView } from 'vbus';",
      "import { Prng, DeviceHarness } from 'vbus/testing';",
      'const host = new VbusHost();',
      'registerVenetClasses(host);',
      "const bus = host.createBus('b', { memoryBytes: 1 << 21 });",
      "host.setType(host.createDevice('n'), 'venet-loopback');",
      "host.link(bus, 'n');",
      "const g = host.spawnGuest(bus, new URL('./guest.mjs', import.meta.url));",
      'const msgs = [];',
      'g.onMessage((m) => msgs.push(m));',
      'const exit = await g.exited;',
      "const tree = adminView(host).tree('/sys/vbus/instances/b');",
      'await host.release();',
      'console.log(JSON.stringify({ exit: exit.code, msgs, tree, prng: new Prng(1).next(), harness: typeof DeviceHarness }));',
    ].join('\n'));
    const out = JSON.parse(sh(process.execPath, ['host.mjs'], project, 60_000).trim().split('\n').pop()!);
    expect(out.exit).toBe(0);
    expect(out.msgs).toEqual([{ devices: [{ id: 0, type: 'virtual-ethernet' }], mac: expect.stringMatching(/^02:/) }]);
    expect(out.tree).toContain('members');
    expect(out.harness).toBe('function');
    // internals are not reachable
    const deep = spawnSync(process.execPath, ['-e', "import('vbus/dist/src/connector/wire.js').then(() => process.exit(0), (e) => { console.log(e.code); process.exit(3); })"], { cwd: project, encoding: 'utf8' });
    expect(deep.status).toBe(3);
    expect(deep.stdout).toContain('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  it('exposes the public API only: internal names are absent and deep imports are refused', async () => {
    writeFileSync(join(project, 'surface.mjs'), [
      "import * as vbus from 'vbus';",
      "import * as browser from 'vbus/browser';",
      "import * as control from 'vbus/control';",
      'const probe = (spec) => import(spec).then(() => \'loaded\', (e) => e.code);',
      "const internals = ['wire', 'BusEndpoint', 'DecodeTables', 'SlotServer', 'ServeGroup', 'BackendProxy', 'DeviceRecorder', 'installPlatform', 'installBackendRunner', 'setBlockingReceive', 'REQ_OFF_OP', 'CPL_BYTES', 'VDISK_Q_REQUEST', 'INFO_OFF_MTU', 'ringRecordBytes', 'platform'];",
      'console.log(JSON.stringify({',
      '  names: Object.keys(vbus).sort(), browserNames: Object.keys(browser).sort(),',
      '  leaked: internals.filter((n) => vbus[n] !== undefined || browser[n] !== undefined),',
      '  control: typeof control.ControlServer,',
      "  deep: await Promise.all(['vbus/internal', 'vbus/dist/src/internal.js', 'vbus/dist/src/connector/wire.js', 'vbus/dist/src/index.js'].map(probe)),",
      '}));',
    ].join('\n'));
    const out = JSON.parse(sh(process.execPath, ['surface.mjs'], project, 60_000).trim().split('\n').pop()!);
    expect(out.leaked).toEqual([]);
    expect(out.names).toEqual(Object.keys(await import('../dist/src/index.js')).sort());
    expect(out.browserNames).toEqual(out.names);
    expect(out.names).toEqual(expect.arrayContaining(['VbusHost', 'joinBus', 'VbusError', 'adminView', 'openVenet', 'saveBuses', 'deviceConsumer', 'ProducerEnd']));
    expect(out.control).toBe('function');
    expect(out.deep).toEqual(Array(4).fill('ERR_PACKAGE_PATH_NOT_EXPORTED'));
  });

  it('its types compile in a strict consumer without skipLibCheck', () => {
    writeFileSync(join(project, 'consumer.ts'), [
      "import { VbusHost, VbusError, registerVenetClasses, joinBus, adminView, type DeviceClassSpec, type GuestExit } from 'vbus';",
      "import { DeviceHarness, MockGuest, Prng, Sequence, Verifier } from 'vbus/testing';",
      "import * as browser from 'vbus/browser';",
      "import { ControlServer, ControlClient } from 'vbus/control';",
      '// @ts-expect-error internals are not in the types either',
      "import { BusEndpoint } from 'vbus';",
      'const host: VbusHost = new VbusHost();',
      'registerVenetClasses(host);',
      "const spec: DeviceClassSpec = { name: 'x', interfaces: ['x'], create: () => ({ call: (_c, _f, _p, out) => { out[0] = 1; return 1; } }) };",
      "const e: VbusError = new VbusError('EINVAL', 'x');",
      'const n: number = new Prng(1).next();',
      'const done: (x: GuestExit) => number = (x) => x.code;',
      'void [spec, e, n, done, joinBus, adminView, DeviceHarness, MockGuest, Sequence, Verifier, browser.VbusHost, ControlServer, ControlClient, BusEndpoint];',
    ].join('\n'));
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2022', 'dom'], types: [], noEmit: true, skipLibCheck: false, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true },
      files: ['consumer.ts'],
    }));
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project, encoding: 'utf8', timeout: 240_000 });
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.status).toBe(0);
  });
});

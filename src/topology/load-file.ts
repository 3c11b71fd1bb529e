/**
 * Node only: reads a topology file (YAML via the `yaml` package, or JSON), checks it
 * against the schema (ajv), loads its classes (built-in ones by name, user modules by
 * path relative to the file), runs the whole-document checks and returns the plan. It
 * starts nothing and creates nothing: a file with errors throws one EINVAL
 * {@link TopologyError} listing every issue as `FILE:LINE:COL: /json/pointer: rule: what`.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { VbusError, vbusError } from '../errors.js';
import { DeviceClass, type DeviceClassSpec } from '../host/device-class.js';
import { hasBackendRunner } from '../connector/backend/runner.js';
import { BUILTIN_CLASSES } from './builtin-classes.js';
import { locate } from './locate.js';
import { topologySchema } from './schema.js';
import type { Topology, TopologyDoc, TopologyIssue } from './types.js';
import { planTopology } from './validate.js';

/** A topology file that cannot be used: every issue, each with file, pointer, line and rule. */
export class TopologyError extends VbusError {
  constructor(readonly file: string, readonly issues: TopologyIssue[]) {
    super('EINVAL', `topology ${file} has ${issues.length} error(s):\n${issues.map((i) => formatIssue(file, i)).join('\n')}`, { file, issues });
  }
}

/** `FILE:LINE:COL: /pointer: rule: message` (line and column when known). */
export function formatIssue(file: string, i: TopologyIssue): string {
  const where = i.line !== undefined ? `${file}:${i.line}:${i.col ?? 1}` : file;
  return `${where}: ${i.path || '/'}: ${i.rule}: ${i.message}`;
}

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const checkSchema = ajv.compile(topologySchema);

function schemaIssue(e: ErrorObject): TopologyIssue & { key?: string } {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return { path: `${e.instancePath}/${String(p['additionalProperty'])}`, rule: 'additionalProperties', message: `unknown key ${JSON.stringify(p['additionalProperty'])}`, key: String(p['additionalProperty']) };
    case 'required':
      return { path: e.instancePath, rule: 'required', message: `missing required key ${JSON.stringify(p['missingProperty'])}` };
    case 'const':
      return { path: e.instancePath, rule: 'const', message: `must be ${JSON.stringify(p['allowedValue'])}` };
    case 'enum':
      return { path: e.instancePath, rule: 'enum', message: `must be one of ${(p['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    default:
      return { path: e.instancePath, rule: e.keyword, message: e.message ?? 'is not valid' };
  }
}

/** Reads, checks and plans `file`. ENOENT if it does not exist; TopologyError (EINVAL) if it is wrong. */
export async function loadTopologyFile(file: string): Promise<Topology> {
  const abs = resolve(file);
  const shown = relative(process.cwd(), abs).startsWith('..') ? abs : relative(process.cwd(), abs) || abs;
  if (!existsSync(abs)) throw vbusError('ENOENT', `topology file ${shown} does not exist`, { file: shown });
  if (statSync(abs).isDirectory()) throw vbusError('EISDIR', `topology file ${shown} is a directory`, { file: shown });
  const text = readFileSync(abs, 'utf8');
  const lc = new LineCounter();
  const issues: TopologyIssue[] = [];
  const fail = (): never => { throw new TopologyError(shown, issues); };

  // JSON is YAML 1.2, so one parser gives line numbers for both; JSON.parse keeps a
  // .json file to JSON's stricter rules (no comments, no trailing commas).
  const ydoc: Document = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const isJson = /\.json$/i.test(abs);
  if (isJson) {
    try { JSON.parse(text); } catch (e) {
      const pos = /position (\d+)/.exec(String((e as Error).message));
      const first = ydoc.errors[0];
      const lp = pos ? lineOf(text, Number(pos[1])) : first ? lc.linePos(first.pos[0]) : undefined;
      issues.push({ path: '', rule: 'json-syntax', message: String((e as Error).message), ...(lp ?? {}) });
      fail();
    }
  }
  for (const e of ydoc.errors) {
    const lp = lc.linePos(e.pos[0]);
    issues.push({ path: '', rule: e.code === 'DUPLICATE_KEY' ? 'unique-key' : 'yaml-syntax', message: e.message.split('\n')[0]!, line: lp.line, col: lp.col });
  }
  if (issues.length) fail();
  const doc = ydoc.toJS({ maxAliasCount: 100 }) as TopologyDoc;

  if (!checkSchema(doc)) {
    for (const e of checkSchema.errors ?? []) {
      if (e.keyword === 'anyOf') continue; // its branches' errors say more
      const i = schemaIssue(e);
      const lp = locate(ydoc, lc, i.key !== undefined ? e.instancePath : i.path, i.key);
      delete i.key;
      issues.push({ ...i, ...(lp ?? {}) });
    }
    fail();
  }

  const base = dirname(abs);
  const classes: Array<DeviceClassSpec | undefined> = [];
  for (const [i, c] of (doc.classes ?? []).entries()) {
    const at = (path: string, rule: string, message: string): void => { issues.push({ path, rule, message, ...(locate(ydoc, lc, path) ?? {}) }); classes.push(undefined); };
    if ((c.builtin === undefined) === (c.module === undefined)) { at(`/classes/${i}`, 'class-source', 'give exactly one of builtin: NAME or module: PATH'); continue; }
    if (c.builtin !== undefined) {
      const spec = BUILTIN_CLASSES.get(c.builtin);
      if (!spec) { at(`/classes/${i}/builtin`, 'known-class', `no built-in class ${JSON.stringify(c.builtin)} (built-in: ${[...BUILTIN_CLASSES.keys()].join(', ')})`); continue; }
      classes.push(spec);
      continue;
    }
    const path = resolve(base, c.module!);
    if (!existsSync(path)) { at(`/classes/${i}/module`, 'module-exists', `class module ${c.module} (${path}) does not exist`); continue; }
    let mod: Record<string, unknown>;
    try { mod = await import(pathToFileURL(path).href) as Record<string, unknown>; } catch (e) {
      at(`/classes/${i}/module`, 'module-load', `class module ${c.module} failed to load: ${String((e as Error)?.message ?? e)}`);
      continue;
    }
    const name = c.export ?? 'default';
    const spec = mod[name] as DeviceClassSpec | undefined;
    if (spec === undefined) { at(`/classes/${i}/${c.export ? 'export' : 'module'}`, 'module-export', `class module ${c.module} has no export ${name} (it has: ${Object.keys(mod).join(', ') || 'none'})`); continue; }
    try { new DeviceClass(spec); } catch (e) {
      at(`/classes/${i}`, 'class-spec', `export ${name} of ${c.module} is not a usable device class: ${String((e as Error)?.message ?? e)}`);
      continue;
    }
    classes.push(spec);
  }

  const plan = planTopology({
    doc,
    file: shown,
    classes,
    backendAvailable: hasBackendRunner(),
    script: (s) => {
      const p = resolve(base, s);
      if (!existsSync(p)) return `guest script ${s} (${p}) does not exist`;
      if (statSync(p).isDirectory()) return `guest script ${s} is a directory`;
      return pathToFileURL(p);
    },
  });
  for (const i of plan.issues) issues.push({ ...i, ...(locate(ydoc, lc, i.path) ?? {}) });
  if (issues.length || !plan.topology) fail();
  const topo = plan.topology!;
  if (!topo.name) topo.name = abs.replace(/^.*\//, '').replace(/\.(ya?ml|json)$/i, '');
  return topo;
}

function lineOf(text: string, pos: number): { line: number; col: number } {
  const before = text.slice(0, pos).split('\n');
  return { line: before.length, col: before[before.length - 1]!.length + 1 };
}

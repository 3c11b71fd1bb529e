/**
 * A topology file's text to a validated plan, on any platform: parse (YAML, or JSON
 * under JSON's own rules), check against the schema, load its classes (built-in ones
 * by name, user modules through the caller), run the whole-document checks. It starts
 * nothing and creates nothing: a file with errors throws one EINVAL
 * {@link TopologyError} listing every issue as `FILE:LINE:COL: /json/pointer: rule: what`.
 *
 * What differs between Node (`vbus run`, `vbus demo`: load-file.ts reads the file and
 * resolves paths on disk) and the demo page (web/demo.js fetches the file and resolves
 * URLs) comes in as {@link TopologySource}; the parser and the schema library come in
 * as {@link TopologyLibs}. So this module reaches no `node:` module and no bare package
 * name, and both take the same path to the same {@link Topology}.
 */
import type { Document } from 'yaml';
import type { ErrorObject } from 'ajv';
import { VbusError } from '../errors.js';
import { DeviceClass, type DeviceClassSpec } from '../host/device-class.js';
import { hasBackendRunner } from '../connector/backend/runner.js';
import { BUILTIN_CLASSES } from './builtin-classes.js';
import type { TopologyLibs } from './libs.js';
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

/** The file and how to reach what it names, from the platform that read it. */
export interface TopologySource {
  /** The file as messages name it. */
  file: string;
  text: string;
  /** Parse as JSON (`.json`): JSON's own rules, no comments or trailing commas. */
  isJson: boolean;
  /** The runtime's name when the file gives none (the file's base name). */
  defaultName: string;
  /** Loads a `module:` class module (its path as written): its exports, or the rule and message of why not. */
  loadClassModule(path: string): Promise<{ exports: Record<string, unknown> } | { rule: string; message: string }>;
  /** A guest's `script:` (as written) as the URL to start, or why it cannot be started. */
  script(path: string): URL | string;
}

/** One compiled schema check per libs object (ajv compiles once; the page and Node each have theirs). */
const compiled = new WeakMap<TopologyLibs, ReturnType<InstanceType<TopologyLibs['Ajv']>['compile']>>();

function schemaCheck(libs: TopologyLibs) {
  let check = compiled.get(libs);
  if (!check) {
    check = new libs.Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(topologySchema);
    compiled.set(libs, check);
  }
  return check;
}

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

/** Checks and plans a topology file's text. TopologyError (EINVAL) if it is wrong. */
export async function planTopologyText(src: TopologySource, libs: TopologyLibs): Promise<Topology> {
  const { text, file: shown } = src;
  const lc = new libs.LineCounter();
  const issues: TopologyIssue[] = [];
  const fail = (): never => { throw new TopologyError(shown, issues); };
  const where = (ydoc: Document, path: string, key?: string) => locate(libs, ydoc, lc, path, key) ?? {};

  // JSON is YAML 1.2, so one parser gives line numbers for both; JSON.parse keeps a
  // .json file to JSON's stricter rules (no comments, no trailing commas).
  const ydoc: Document = libs.parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (src.isJson) {
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

  const checkSchema = schemaCheck(libs);
  if (!checkSchema(doc)) {
    for (const e of checkSchema.errors ?? []) {
      if (e.keyword === 'anyOf') continue; // its branches' errors say more
      const i = schemaIssue(e);
      const lp = where(ydoc, i.key !== undefined ? e.instancePath : i.path, i.key);
      delete i.key;
      issues.push({ ...i, ...lp });
    }
    fail();
  }

  const classes: Array<DeviceClassSpec | undefined> = [];
  for (const [i, c] of (doc.classes ?? []).entries()) {
    const at = (path: string, rule: string, message: string): void => { issues.push({ path, rule, message, ...where(ydoc, path) }); classes.push(undefined); };
    if ((c.builtin === undefined) === (c.module === undefined)) { at(`/classes/${i}`, 'class-source', 'give exactly one of builtin: NAME or module: PATH'); continue; }
    if (c.builtin !== undefined) {
      const spec = BUILTIN_CLASSES.get(c.builtin);
      if (!spec) { at(`/classes/${i}/builtin`, 'known-class', `no built-in class ${JSON.stringify(c.builtin)} (built-in: ${[...BUILTIN_CLASSES.keys()].join(', ')})`); continue; }
      classes.push(spec);
      continue;
    }
    const loaded = await src.loadClassModule(c.module!);
    if (!('exports' in loaded)) { at(`/classes/${i}/module`, loaded.rule, loaded.message); continue; }
    const mod = loaded.exports;
    const name = c.export ?? 'default';
    const spec = mod[name] as DeviceClassSpec | undefined;
    if (spec === undefined) { at(`/classes/${i}/${c.export ? 'export' : 'module'}`, 'module-export', `class module ${c.module} has no export ${name} (it has: ${Object.keys(mod).join(', ') || 'none'})`); continue; }
    try { new DeviceClass(spec); } catch (e) {
      at(`/classes/${i}`, 'class-spec', `export ${name} of ${c.module} is not a usable device class: ${String((e as Error)?.message ?? e)}`);
      continue;
    }
    classes.push(spec);
  }

  const plan = planTopology({ doc, file: shown, classes, backendAvailable: hasBackendRunner(), script: src.script });
  for (const i of plan.issues) issues.push({ ...i, ...where(ydoc, i.path) });
  if (issues.length || !plan.topology) fail();
  const topo = plan.topology!;
  if (!topo.name) topo.name = src.defaultName;
  return topo;
}

function lineOf(text: string, pos: number): { line: number; col: number } {
  const before = text.slice(0, pos).split('\n');
  return { line: before.length, col: before[before.length - 1]!.length + 1 };
}

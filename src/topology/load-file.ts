/**
 * Node only: reads a topology file from disk and plans it (plan-text.ts, the same code
 * the demo page runs on a fetched file): class modules and guest scripts are paths
 * relative to the file, checked on disk. It starts nothing and creates nothing: a file
 * with errors throws one EINVAL {@link TopologyError} listing every issue.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { vbusError } from '../errors.js';
import { topologyLibs } from './libs.js';
import { planTopologyText } from './plan-text.js';
import type { Topology } from './types.js';

export { TopologyError, formatIssue } from './plan-text.js';

/** Reads, checks and plans `file`. ENOENT if it does not exist; TopologyError (EINVAL) if it is wrong. */
export async function loadTopologyFile(file: string): Promise<Topology> {
  const abs = resolve(file);
  const shown = relative(process.cwd(), abs).startsWith('..') ? abs : relative(process.cwd(), abs) || abs;
  if (!existsSync(abs)) throw vbusError('ENOENT', `topology file ${shown} does not exist`, { file: shown });
  if (statSync(abs).isDirectory()) throw vbusError('EISDIR', `topology file ${shown} is a directory`, { file: shown });
  const base = dirname(abs);
  return planTopologyText({
    file: shown,
    text: readFileSync(abs, 'utf8'),
    isJson: /\.json$/i.test(abs),
    defaultName: abs.replace(/^.*\//, '').replace(/\.(ya?ml|json)$/i, ''),
    async loadClassModule(module) {
      const path = resolve(base, module);
      if (!existsSync(path)) return { rule: 'module-exists', message: `class module ${module} (${path}) does not exist` };
      try {
        return { exports: await import(pathToFileURL(path).href) as Record<string, unknown> };
      } catch (e) {
        return { rule: 'module-load', message: `class module ${module} failed to load: ${String((e as Error)?.message ?? e)}` };
      }
    },
    script(s) {
      const p = resolve(base, s);
      if (!existsSync(p)) return `guest script ${s} (${p}) does not exist`;
      if (statSync(p).isDirectory()) return `guest script ${s} is a directory`;
      return pathToFileURL(p);
    },
  }, topologyLibs);
}

/** The topology of a runtime made from a snapshot alone (`vbus run --restore FILE`): named after the file, empty. */
export function emptyTopology(snapshotFile: string): Topology {
  const base = snapshotFile.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '') || 'restored';
  return { file: snapshotFile, name: base, classes: [], buses: [], devices: [], links: [], guests: [] };
}

/**
 * A topology file fetched over HTTP (the demo page: `vbus serve` serves
 * examples/topologies/), planned by the same code as `vbus run` (plan-text.ts). The
 * page passes the bundled parser and schema library (libs.browser.js) and says what
 * each guest script becomes there: a Node guest entry cannot run in a Web Worker, so
 * the page maps the demo guest to its Web Worker entry and refuses other scripts,
 * before anything starts.
 */
import { vbusError } from '../errors.js';
import type { TopologyLibs } from './libs.js';
import { planTopologyText } from './plan-text.js';
import type { Topology } from './types.js';

export interface FetchTopologyOptions {
  /** A guest's script, resolved against the file's URL, as the URL to start here; a string says why it cannot run here. */
  script(url: URL): URL | string;
}

/** Fetches and plans the topology at `url`. ENOENT / EIO when it cannot be fetched; TopologyError (EINVAL) when it is wrong. */
export async function fetchTopology(url: URL, libs: TopologyLibs, opts: FetchTopologyOptions): Promise<Topology> {
  const file = decodeURIComponent(url.pathname.replace(/^\//, ''));
  let res: Response;
  try { res = await fetch(url); } catch (e) {
    throw vbusError('EIO', `topology ${file} could not be fetched: ${String((e as Error)?.message ?? e)}`, { url: url.href });
  }
  if (!res.ok) throw vbusError(res.status === 404 ? 'ENOENT' : 'EIO', `topology ${file}: HTTP ${res.status} ${res.statusText}`, { url: url.href, status: res.status });
  return planTopologyText({
    file,
    text: await res.text(),
    isJson: /\.json$/i.test(url.pathname),
    defaultName: url.pathname.replace(/^.*\//, '').replace(/\.(ya?ml|json)$/i, ''),
    // A page imports only what its module graph names (test/browser-imports.test.ts
    // checks it reaches nothing unbundled), so it registers built-in classes only.
    loadClassModule: async (module) => ({ rule: 'module-load', message: `class module ${module}: a page loads built-in classes only (builtin: NAME); run this file with vbus run` }),
    script: (s) => opts.script(new URL(s, url)),
  }, libs);
}

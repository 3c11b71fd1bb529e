/**
 * Draws bench/results/path.json as bench/results/path.svg (the README shows it): per
 * case, throughput and p50 latency of vbus-backend, vbus-host and qemu-like, on log
 * scales. Drawn by vega-lite (spec) and vega (headless SVG renderer), no browser.
 *
 *   node dist/bench/path/plot.js [results.json] [out.svg]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { ResultFile } from '../harness/types.js';

const root = resolve(import.meta.dirname, '..', '..', '..');
const input = process.argv[2] ?? resolve(root, 'bench', 'results', 'path.json');
const output = process.argv[3] ?? resolve(root, 'bench', 'results', 'path.svg');

const result = JSON.parse(readFileSync(input, 'utf8')) as ResultFile;
const IMPLS = ['vbus-backend', 'vbus-host', 'qemu-like'];
const order = [...new Set(result.rows.map((r) => r.case))];
/** One panel: `field` of every row per case, one bar per impl, log scale. */
const panel = (field: 'opsPerSec' | 'p50us', title: string) => {
  const vs = result.rows.map((r) => r[field]).filter((v): v is number => typeof v === 'number' && v > 0);
  // An explicit log domain: bars on a log scale have no zero to start from.
  const domain = [10 ** Math.floor(Math.log10(Math.min(...vs))), 10 ** Math.ceil(Math.log10(Math.max(...vs)))];
  return {
  width: 330,
  height: 230,
  title,
  data: { values: result.rows.filter((r) => typeof r[field] === 'number' && r[field]! > 0).map((r) => ({ case: r.case, impl: r.impl, value: r[field] })) },
  mark: { type: 'bar' as const },
  encoding: {
    y: { field: 'case', type: 'nominal' as const, title: null, sort: order },
    yOffset: { field: 'impl', type: 'nominal' as const, sort: IMPLS },
    x: { field: 'value', type: 'quantitative' as const, scale: { type: 'log' as const, domain }, title: null },
    x2: { datum: domain[0] },
    color: { field: 'impl', type: 'nominal' as const, sort: IMPLS, title: 'path' },
  },
  };
};
const m = result.machine;
const spec: TopLevelSpec = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: { text: 'npm run bench -- path', subtitle: `${m.cpus} × ${m.model}, Node ${m.node}, ${m.date.slice(0, 10)}, load ${m.loadavg.map((x) => x.toFixed(1)).join(' ')} (shared, noisy VM)` },
  hconcat: [panel('opsPerSec', 'throughput, ops/s (higher is better)'), panel('p50us', 'p50 latency, µs (lower is better)')],
};
const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
await view.runAsync();
writeFileSync(output, await view.toSVG());
console.log(`[plot] wrote ${output}`);

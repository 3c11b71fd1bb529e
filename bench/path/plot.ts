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
const values = result.rows.flatMap((r) => [
  { case: r.case, impl: r.impl, metric: 'throughput (ops/s, higher is better)', value: r.opsPerSec },
  { case: r.case, impl: r.impl, metric: 'p50 latency (µs, lower is better)', value: r.p50us ?? null },
]);
const m = result.machine;
const spec: TopLevelSpec = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: { text: 'npm run bench -- path', subtitle: `${m.cpus} × ${m.model}, Node ${m.node}, ${m.date.slice(0, 10)}, load ${m.loadavg.map((x) => x.toFixed(1)).join(' ')} (shared, noisy VM)` },
  data: { values },
  facet: { column: { field: 'metric', type: 'nominal', title: null } },
  spec: {
    width: 330,
    height: 220,
    mark: 'bar',
    encoding: {
      y: { field: 'case', type: 'nominal', title: null, sort: result.rows.map((r) => r.case) },
      yOffset: { field: 'impl', sort: ['vbus-backend', 'vbus-host', 'qemu-like'] },
      x: { field: 'value', type: 'quantitative', scale: { type: 'log' }, title: null },
      color: { field: 'impl', type: 'nominal', sort: ['vbus-backend', 'vbus-host', 'qemu-like'], title: 'path' },
    },
  },
  resolve: { scale: { x: 'independent' } },
};
const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
writeFileSync(output, await view.toSVG());
console.log(`[plot] wrote ${output}`);

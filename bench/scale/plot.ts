/**
 * Draws the scale bench's plot: aggregate calls/s against the number of busy guests, one
 * line per impl, log-log. Vega-Lite compiles the chart, Vega renders it to SVG headless
 * (no browser, no canvas). Written to bench/results/scale.svg (quick runs:
 * scale-quick.svg, so a smoke run never replaces the plot the README shows), or next to
 * VBUS_BENCH_OUT when that names the results file.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { Row } from '../harness/types.js';

// Compiled to dist/bench/scale/plot.js: the repository is three levels up.
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The Vega-Lite spec for `rows` (the calls-Nguests rows). */
export function plotSpec(rows: readonly Row[]): vl.TopLevelSpec {
  const values = rows
    .filter((r) => /^calls-\d+guests$/.test(r.case) && r.opsPerSec > 0)
    .map((r) => ({ guests: Number(/^calls-(\d+)guests$/.exec(r.case)![1]), rate: r.opsPerSec, impl: r.impl }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Aggregate calls/s with N busy guests (2 shared vCPUs)',
    width: 480,
    height: 300,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'guests', type: 'quantitative', title: 'busy guests (N)', scale: { type: 'log', base: 2 } },
      y: { field: 'rate', type: 'quantitative', title: 'aggregate calls/s', scale: { type: 'log' } },
      color: { field: 'impl', type: 'nominal', title: 'impl' },
    },
  };
}

/** Renders the plot; returns the file written. */
export async function writePlot(rows: readonly Row[], quick: boolean): Promise<string> {
  const spec = vl.compile(plotSpec(rows)).spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const json = process.env['VBUS_BENCH_OUT'];
  const out = json ? json.replace(/\.json$/, '') + '.svg' : join(ROOT, 'bench/results', quick ? 'scale-quick.svg' : 'scale.svg');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, svg);
  return out;
}

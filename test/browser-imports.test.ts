// Nothing Node-only may be reachable from what a browser loads: the page, its worker,
// and the browser entry point, resolved exactly as the demo server serves them.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { servedFile } from '../dist/src/demo/serve.js';
import { walkBrowserGraph } from './helpers/import-graph.js';

const root = resolve(import.meta.dirname, '..');
const served = (urlPath: string) => servedFile(root, urlPath);

describe('browser import graph', () => {
  it('reaches no node: module and no bare package name from the page, its worker or dist/src/browser.js', () => {
    const g = walkBrowserGraph(['/app.js', '/echo-worker.js', '/demo.js', '/demo-guest.js', '/dist/src/browser.js'], served);
    expect(g.problems).toEqual([]);
    // The walk really went through the runtime (not just the roots).
    expect(g.visited).toContain('/dist/src/platform/browser.js');
    expect(g.visited).toContain('/dist/src/core/ring.js');
    expect(g.visited).toContain('/dist/assembly/layout/ring.js');
    expect(g.visited).toContain('/dist/src/demo/echo-guest.js');
    expect(g.visited).toContain('/dist/src/demo/lab.js');
    expect(g.visited).toContain('/dist/src/demo/demo-guest.js');
    expect(g.visited).toContain('/dist/src/devices/venet/switch-model.js');
    // The demo page plans its topology file with the code `vbus run` uses, and the
    // parser and schema library it gets are the bundled ones.
    expect(g.visited).toContain('/dist/src/topology/plan-text.js');
    expect(g.visited).toContain('/dist/src/topology/validate.js');
    expect(g.visited).toContain('/dist/src/topology/build.js');
    expect(g.visited).toContain('/dist/src/topology/libs.browser.js');
    expect(g.visited).not.toContain('/dist/src/topology/load-file.js');
    expect(g.visited).not.toContain('/dist/src/topology/libs.js');
    expect(g.visited).not.toContain('/dist/src/demo/topology.js');
    expect(g.visited).not.toContain('/dist/src/platform/node.js');
  });

  it('finds node:worker_threads from the Node entry (the walker does see violations)', () => {
    const g = walkBrowserGraph(['/dist/src/index.js'], served);
    expect(g.problems.some((p) => p.includes("'node:worker_threads'") && p.startsWith('/dist/src/platform/node.js'))).toBe(true);
  });

  it('reports bare names, require(), computed import() and follows worker URLs, ignoring comments', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vbus-graph-'));
    mkdirSync(join(dir, 'web'));
    writeFileSync(join(dir, 'web/a.js'), [
      "// import 'node:fs' in a comment is fine",
      "import { x } from './b.js';",
      "const w = new URL('./w.js', import.meta.url);",
      "const s = 'require(\"fs\")';",
    ].join('\n'));
    writeFileSync(join(dir, 'web/b.js'), "export * from 'lodash';\nexport const x = 1;\nconst m = 'm'; import(m);\n");
    writeFileSync(join(dir, 'web/w.js'), "const fs = require('fs');\nimport('node:path');\n");
    const g = walkBrowserGraph(['/a.js'], (p) => servedFile(dir, p));
    expect(g.visited).toEqual(['/a.js', '/b.js', '/w.js']);
    expect(g.problems).toHaveLength(4);
    expect(g.problems[0]).toMatch(/^\/b\.js: import 'lodash' is a bare specifier/);
    expect(g.problems[1]).toMatch(/^\/b\.js: import\(\) with a computed specifier/);
    expect(g.problems[2]).toMatch(/^\/w\.js: require\(\) is not available/);
    expect(g.problems[3]).toMatch(/^\/w\.js: import\(\) 'node:path' is a Node module/);
  });
});

// The public API is documented: every name the root entry exports appears in README.md
// as code (an inline `span` or a fenced block), so adding an export without saying what
// it is fails here. And the examples, which users copy, import only public entries.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Identifiers that occur in README.md's code spans and code blocks. */
function readmeCodeNames(): Set<string> {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const names = new Set<string>();
  for (const m of readme.matchAll(/```[^\n]*\n([\s\S]*?)```|`([^`\n]+)`/g)) {
    for (const id of (m[1] ?? m[2]!).matchAll(/[A-Za-z_$][\w$]*/g)) names.add(id[0]);
  }
  return names;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return n === 'dist' || n === 'node_modules' ? [] : filesUnder(p);
    return /\.(m?js|ts|html)$/.test(n) ? [p] : [];
  });
}

describe('the public API', () => {
  it('README.md documents every name vbus exports', async () => {
    const exported = Object.keys(await import('../dist/src/index.js')).sort();
    expect(exported.length).toBeGreaterThan(50);
    const documented = readmeCodeNames();
    expect(exported.filter((n) => !documented.has(n))).toEqual([]);
  });

  it('examples import vbus only through the package entry points, never a file inside it', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const entries = new Set(Object.keys(pkg.exports).map((k: string) => (k === '.' ? 'vbus' : `vbus/${k.slice(2)}`)));
    const bad: string[] = [];
    for (const file of filesUnder(join(root, 'examples'))) {
      const src = readFileSync(file, 'utf8');
      for (const m of src.matchAll(/(?:from\s*|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)) {
        const spec = m[1]!;
        if (spec.startsWith('node:') || spec.startsWith('./') || spec === 'esbuild') continue;
        if (spec.startsWith('../') && !/dist\/|src\//.test(spec)) continue; // a sibling example file
        if (!entries.has(spec)) bad.push(`${file.slice(root.length)}: ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });
});

/**
 * The import graph of the TypeScript sources (src/), read with the TypeScript parser:
 * one edge per import or re-export, marked when it is type-only (erased at run time).
 * Used to check that layers do not import each other in a circle.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export interface Edge { from: string; to: string; typeOnly: boolean }

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) files(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Edges between files under `root` (paths relative to `base`, e.g. 'src/host/host.ts'). */
export function sourceGraph(base: string, root: string): Edge[] {
  const edges: Edge[] = [];
  for (const file of files(join(base, root))) {
    const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    for (const st of src.statements) {
      if (!(ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) || !st.moduleSpecifier || !ts.isStringLiteral(st.moduleSpecifier)) continue;
      const spec = st.moduleSpecifier.text;
      if (!spec.startsWith('.')) continue;
      let typeOnly = false;
      if (ts.isImportDeclaration(st)) {
        const c = st.importClause;
        typeOnly = !!c && (c.isTypeOnly || (!c.name && !!c.namedBindings && ts.isNamedImports(c.namedBindings)
          && c.namedBindings.elements.length > 0 && c.namedBindings.elements.every((e) => e.isTypeOnly)));
      } else {
        typeOnly = st.isTypeOnly;
      }
      const to = relative(base, resolve(dirname(file), spec)).replace(/\.js$/, '.ts');
      edges.push({ from: relative(base, file), to, typeOnly });
    }
  }
  return edges;
}

/** Strongly connected components with more than one file (each is an import circle). */
export function circles(edges: Edge[]): string[][] {
  const adj = new Map<string, string[]>();
  for (const e of edges) { if (!adj.has(e.from)) adj.set(e.from, []); adj.get(e.from)!.push(e.to); if (!adj.has(e.to)) adj.set(e.to, []); }
  let index = 0;
  const idx = new Map<string, number>(), low = new Map<string, number>(), on = new Set<string>(), stack: string[] = [];
  const out: string[][] = [];
  const strong = (v: string): void => {
    idx.set(v, index); low.set(v, index); index++; stack.push(v); on.add(v);
    for (const w of adj.get(v)!) {
      if (!idx.has(w)) { strong(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do { w = stack.pop()!; on.delete(w); comp.push(w); } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const v of adj.keys()) if (!idx.has(v)) strong(v);
  return out;
}

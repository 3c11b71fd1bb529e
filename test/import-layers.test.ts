/**
 * The source tree's layers do not import each other in a circle: the admin view is
 * built from a host (src/admin imports src/host, never the other way round), no import
 * circle joins the host and the admin view or the connector and another folder, even
 * counting type-only imports; no circle at all among the connector's own files; no
 * circle joins two folders of src/ anywhere; and nothing loaded at run time is part of
 * a circle.
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { circles, sourceGraph } from './helpers/source-graph.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const edges = sourceGraph(root, 'src');
const layer = (f: string): string => f.split('/').slice(0, 2).join('/');

describe('import layers', () => {
  it('reads a real graph (the walk finds the host and the admin view)', () => {
    expect(edges.some((e) => e.from === 'src/admin/path-view.ts' && e.to === 'src/host/host.ts')).toBe(true);
    expect(edges.length).toBeGreaterThan(100);
  });

  it('nothing in src/host imports src/admin, not even a type', () => {
    expect(edges.filter((e) => e.from.startsWith('src/host/') && e.to.startsWith('src/admin/'))).toEqual([]);
  });

  it('no import circle joins src/host and src/admin, or src/connector and another folder (type-only imports included)', () => {
    const bad = circles(edges).filter((c) => {
      const layers = new Set(c.map(layer));
      return (layers.has('src/host') && layers.has('src/admin')) || (layers.has('src/connector') && layers.size > 1);
    });
    expect(bad).toEqual([]);
  });

  it('finds a circle made of type-only imports (the check can fail)', () => {
    const made = circles([
      { from: 'src/connector/a.ts', to: 'src/connector/b.ts', typeOnly: true },
      { from: 'src/connector/b.ts', to: 'src/connector/c.ts', typeOnly: false },
      { from: 'src/connector/c.ts', to: 'src/connector/a.ts', typeOnly: true },
      { from: 'src/connector/c.ts', to: 'src/core/d.ts', typeOnly: false },
    ]);
    expect(made).toEqual([['src/connector/a.ts', 'src/connector/b.ts', 'src/connector/c.ts']]);
  });

  it('no import circle among the files of src/connector (type-only imports included)', () => {
    const connector = edges.filter((e) => e.from.startsWith('src/connector/') && e.to.startsWith('src/connector/'));
    expect(connector.length).toBeGreaterThan(20); // the connector's files do import each other
    expect(circles(connector)).toEqual([]);
  });

  it('no import circle joins two folders of src/ (type-only imports included)', () => {
    const folder = (f: string): string => f.split('/').slice(0, f.split('/').length > 2 ? 2 : 1).join('/');
    expect(circles(edges).filter((c) => new Set(c.map(folder)).size > 1)).toEqual([]);
  });

  it('the run-time import graph has no circle', () => {
    expect(circles(edges.filter((e) => !e.typeOnly))).toEqual([]);
  });
});

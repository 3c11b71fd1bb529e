/** Renders result rows as a fixed-width text table with ratio columns. */
import type { BenchModule, Row } from './types.js';

function fmtNum(x: number | undefined, digits = 3): string {
  if (x === undefined || !Number.isFinite(x)) return '';
  if (x >= 1e9) return (x / 1e9).toFixed(2) + ' G';
  if (x >= 1e6) return (x / 1e6).toFixed(2) + ' M';
  if (x >= 1e4) return (x / 1e3).toFixed(1) + ' k';
  return x.toPrecision(digits);
}

function refsFor(mod: BenchModule, row: Row): readonly string[] {
  return mod.references.find((r) => row.case.startsWith(r.casePrefix))?.impls ?? [];
}

/** The ratio of `row` against reference `impl`, as text ('' if there is no such row). */
export function ratio(rows: readonly Row[], row: Row, impl: string): string {
  const ref = rows.find((r) => r.case === row.case && r.impl === impl && (r.placement === row.placement || r.threads === 1));
  if (!ref) return '';
  const fmt = (x: number): string => (x >= 0.1 ? x.toFixed(2) : x.toPrecision(2));
  if (row.p50us !== undefined && ref.p50us !== undefined) return fmt(row.p50us / ref.p50us) + '× p50';
  return fmt(row.opsPerSec / ref.opsPerSec) + '×';
}

export function renderTable(mod: BenchModule, rows: readonly Row[]): string {
  const allRefs = [...new Set(mod.references.flatMap((r) => r.impls))];
  const head = ['case', 'impl', 'placement', 'ops/s', 'MB/s', 'p50 µs', 'p99 µs', ...allRefs.map((r) => `vs ${r}`)];
  const body = rows.map((row) => {
    const refs = refsFor(mod, row);
    return [
      row.case, row.impl, row.threads === 1 ? 'single-thread' : row.placement,
      fmtNum(row.opsPerSec), row.mbPerSec !== undefined ? fmtNum(row.mbPerSec) : '',
      row.p50us !== undefined ? row.p50us.toFixed(2) : '', row.p99us !== undefined ? row.p99us.toFixed(2) : '',
      ...allRefs.map((r) => (refs.includes(r) && r !== row.impl ? ratio(rows, row, r) : '')),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  ')];
  let prev = '';
  for (let i = 0; i < body.length; i++) {
    if (prev && rows[i]!.case !== prev) out.push('');
    prev = rows[i]!.case;
    out.push(line(body[i]!));
  }
  return out.join('\n');
}

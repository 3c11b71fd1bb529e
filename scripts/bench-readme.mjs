// Renders bench/results/*.json into README.md between the markers
// <!-- bench:start --> and <!-- bench:end -->: one table per benchmark with the machine
// it ran on. Run after `npm run bench -- NAME` (npm run bench:readme).
import { readFileSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'bench/results');
const order = ['ring', 'call', 'venet', 'vdisk', 'host-scale', 'vconsole'];

const fmt = (x, digits = 3) => {
  if (x === undefined || x === null || Number.isNaN(x)) return '';
  const a = Math.abs(x);
  if (a >= 1e9) return (x / 1e9).toFixed(2) + ' G';
  if (a >= 1e6) return (x / 1e6).toFixed(2) + ' M';
  if (a >= 1e4) return (x / 1e3).toFixed(1) + ' k';
  return Number(x.toPrecision(digits)).toString();
};

function table(file) {
  const res = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const rows = res.rows ?? [];
  const hasLat = rows.some((r) => r.p50us !== undefined);
  const hasMb = rows.some((r) => r.mbPerSec !== undefined || r.gbps !== undefined);
  const head = ['case', 'impl', 'placement', 'bytes', 'ops/s'];
  if (hasMb) head.push('MB/s');
  if (hasLat) head.push('p50 µs', 'p99 µs');
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`];
  for (const r of rows) {
    const cells = [r.case, `\`${r.impl}\``, r.placement ?? '', r.bytes ?? '', fmt(r.opsPerSec)];
    if (hasMb) cells.push(r.mbPerSec !== undefined ? fmt(r.mbPerSec) : r.gbps !== undefined ? fmt(r.gbps * 125) : '');
    if (hasLat) cells.push(fmt(r.p50us), fmt(r.p99us));
    lines.push(`| ${cells.join(' | ')} |`);
  }
  const m = res.machine ?? {};
  const name = file.replace(/\.json$/, '');
  return [`### \`npm run bench -- ${name}\``, '',
    `Machine: ${m.model ?? '?'} × ${m.cpus ?? '?'} vCPU, ${m.os ?? ''}, Node ${m.node ?? ''}, ${m.date ?? ''}; ` +
    `pinning ${res.pinning ? 'available (placement per row)' : 'unavailable (threads unpinned)'}; ` +
    `${res.options?.repeat ?? '?'} repeats, medians${res.options?.quick ? ' (QUICK smoke run: not representative)' : ''}.`,
    '', ...lines, ''].join('\n');
}

// Only the benches listed in `order`: the others (scale, path, replay, v86) have sections of their own.
const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json') && order.includes(f.replace('.json', ''))) : [];
files.sort((a, b) => (order.indexOf(a.replace('.json', '')) + 1 || 99) - (order.indexOf(b.replace('.json', '')) + 1 || 99));
const body = files.length ? files.map(table).join('\n') : '_No results yet: run `npm run bench -- NAME`._\n';
const readme = join(root, 'README.md');
const text = readFileSync(readme, 'utf8');
const start = '<!-- bench:start -->', end = '<!-- bench:end -->';
const a = text.indexOf(start), b = text.indexOf(end);
if (a < 0 || b < a) { console.error('README.md has no bench markers'); process.exit(1); }
writeFileSync(readme, text.slice(0, a + start.length) + '\n' + body + text.slice(b));
console.log(`README.md: ${files.length} benchmark table(s) rendered`);

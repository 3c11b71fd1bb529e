/**
 * `vbus top`: the stats region of a running runtime, per bus and device, refreshed in
 * the terminal (rates between two readings); `--once --json` prints one reading for
 * scripts. A delegated client sees its bus's devices and rings only.
 */
import type { Command } from 'commander';
import { withClient, type GlobalOptions } from '../connect.js';
import { positiveInt } from '../options.js';
import type { HostStatsReading } from '../../stats/host-stats.js';

interface TopOptions { once?: boolean; interval: number; count?: number }

const fmt = (n: number): string => (n >= 1e9 ? `${(n / 1e9).toFixed(1)}G` : n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(0)}k` : String(Math.round(n)));

/** The latency below which `q` of the sampled calls fall, from the log2 histogram (upper bucket bound, us). */
export function histQuantile(h: number[], q: number): number | null {
  const total = h.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  let acc = 0;
  for (let k = 0; k < h.length; k++) { acc += h[k]!; if (acc >= q * total) return 2 ** k; }
  return 2 ** h.length;
}

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i < 2 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ')).join('\n') + '\n';
}

/** The screen for one reading (rates against `prev` when given). */
export function renderTop(cur: HostStatsReading, prev: HostStatsReading | null, runtime: string): string {
  const dt = prev ? Math.max(1e-3, (cur.t - prev.t) / 1000) : 0;
  const rate = (now: number, before: number | undefined): string => (dt && before !== undefined ? fmt(Math.max(0, now - before) / dt) : '-');
  const devRows = [['DEVICE', 'TYPE', 'LINKS', 'CALLS', 'CALLS/s', 'RECORDS', 'REC/s', 'CALL B/s', 'ERRORS', 'DROPS', 'FAULTS', 'p50us', 'p99us']];
  for (const d of cur.devices) {
    const p = prev?.devices.find((x) => x.name === d.name);
    const p50 = histQuantile(d.latencyHistogram, 0.5);
    const p99 = histQuantile(d.latencyHistogram, 0.99);
    devRows.push([d.name, d.type, d.links.join(',') || '-', fmt(d.calls), rate(d.calls, p?.calls), fmt(d.records), rate(d.records, p?.records),
      rate(d.callBytesIn + d.callBytesOut, p ? p.callBytesIn + p.callBytesOut : undefined), fmt(d.callErrors), fmt(d.drops), fmt(d.faults),
      p50 === null ? '-' : `<${p50}`, p99 === null ? '-' : `<${p99}`]);
  }
  const ringRows = [['DEVICE', 'BUS', 'MEMBER', 'Q', 'DIR', 'USED', 'HIGH', 'CAP', 'BYTES', 'BYTES/s', 'RAISED', 'SUPPR', 'FAULT']];
  for (const r of cur.rings) {
    const p = prev?.rings.find((x) => x.slot === r.slot && x.device === r.device && x.member === r.member);
    ringRows.push([r.device, r.bus, String(r.member), String(r.queue), r.direction, fmt(r.used), fmt(r.highWater), fmt(r.capacity), fmt(r.bytes), rate(r.bytes, p?.bytes), fmt(r.raised), fmt(r.suppressed), r.faults ? 'yes' : '-']);
  }
  return `vbus top: runtime ${runtime}, ${new Date(cur.t).toISOString()}, ${cur.devices.length} devices, ${cur.rings.length} rings\n\n`
    + table(devRows) + '\n' + (cur.rings.length ? table(ringRows) : '(no rings open)\n');
}

export function topCommand(program: Command): void {
  program.command('top').description('show the live counters of every bus, device and ring (the stats region)')
    .option('--once', 'print one reading and exit')
    .option('--interval <ms>', 'refresh period', positiveInt(60_000), 1000)
    .option('--count <n>', 'stop after this many refreshes', positiveInt(1_000_000))
    .action(async (o: TopOptions, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withClient(g, async (c) => {
        const hello = await c.request('hello');
        const read = async (): Promise<HostStatsReading> => (await c.request('stats')) as HostStatsReading;
        if (o.once) {
          const r = await read();
          process.stdout.write(g.json ? JSON.stringify({ runtime: hello.name, ...r }) + '\n' : renderTop(r, null, hello.name));
          return;
        }
        let prev: HostStatsReading | null = null;
        let stop = false;
        process.once('SIGINT', () => { stop = true; });
        for (let n = 0; !stop && (o.count === undefined || n < o.count); n++) {
          const cur = await read();
          if (g.json) process.stdout.write(JSON.stringify({ runtime: hello.name, ...cur }) + '\n');
          else process.stdout.write((process.stdout.isTTY ? '\x1b[H\x1b[2J' : '') + renderTop(cur, prev, hello.name));
          prev = cur;
          if (o.count === undefined || n + 1 < o.count) await new Promise((r) => setTimeout(r, o.interval));
        }
      });
    });
}

/**
 * Host scale: the cost of building and tearing down buses with four devices each, per
 * bus, at 250/500/1000/2000 buses (the per-bus time should stay flat if the host is
 * linear), and the memory an idle bus holds.
 *
 * Run: `node dist/bench/host-scale.js` (after `npm run build`). `run()` returns rows for
 * the bench harness.
 */
import { VbusHost } from '../src/host/host.js';
import type { DeviceClassSpec } from '../src/host/device-class.js';
import { BusMemory } from '../src/core/bus-memory.js';
import { WASM_PAGE } from '../assembly/layout/bus.js';

/** One measured row. */
export interface HostScaleRow {
  case: string;
  impl: 'vbus';
  /** Buses in the run. */
  n: number;
  /** Microseconds per bus for create bus + 4 devices (create, type, link) + teardown. */
  usPerBus: number;
  /** Bytes an idle bus holds: its bus memory, plus the process growth per idle bus where measurable. */
  idleBusBytes: number;
}

const DEVICES_PER_BUS = 4;

/** A device class like the network ones: 4 attributes, 8 KiB of bus memory per link. */
const benchClass: DeviceClassSpec = {
  name: 'bench-net',
  interfaces: ['virtual-ethernet'],
  busBytes: 8192,
  attributes: [
    { name: 'client_mac', mode: 'rw', initial: '00:00:00:00:00:00' },
    { name: 'enabled', mode: 'rw', initial: '0' },
    { name: 'host_mac', mode: 'rw', initial: '00:00:00:00:00:00' },
    { name: 'ifname', mode: 'ro', initial: 'tap0' },
  ],
  create: () => ({}),
};

/** Builds n buses with 4 linked devices each, then tears everything down; returns elapsed ms. */
function cycle(host: VbusHost, n: number): number {
  const t0 = performance.now();
  for (let b = 0; b < n; b++) {
    const bus = host.createBus(`bus-${b}`);
    for (let d = 0; d < DEVICES_PER_BUS; d++) {
      const dev = host.createDevice(`dev-${b}-${d}`);
      host.setType(dev, benchClass.name);
      host.link(bus, dev);
    }
  }
  host.teardown();
  return performance.now() - t0;
}

interface Usage { rss: number; heapUsed: number }

function usage(): Usage | undefined {
  const p = (globalThis as { process?: { memoryUsage?: () => Usage } }).process;
  (globalThis as { gc?: () => void }).gc?.();
  return p?.memoryUsage ? p.memoryUsage() : undefined;
}

/**
 * What an idle bus holds: its bus memory (reserved, 64 KiB by default) and, where the
 * platform reports it, the growth per bus of resident memory and of the JS heap (the
 * core instance and the host objects) over `n` idle buses. Run node with
 * `--expose-gc` for steady heap figures.
 */
export function idleBusBytes(n = 2000): { busMemoryBytes: number; rssPerBus?: number; heapPerBus?: number } {
  const host = new VbusHost();
  host.createBus('warm-up');
  const before = usage();
  for (let i = 0; i < n; i++) host.createBus(`idle-${i}`);
  const after = usage();
  const busMemoryBytes = host.stats().busMemoryBytes / (n + 1);
  host.release();
  if (!before || !after) return { busMemoryBytes };
  return { busMemoryBytes, rssPerBus: (after.rss - before.rss) / n, heapPerBus: (after.heapUsed - before.heapUsed) / n };
}

/** Creates and releases n bare bus memories (what each bus pays the platform); returns elapsed ms. */
function memoryCycle(n: number): number {
  const t0 = performance.now();
  const mems: BusMemory[] = [];
  for (let i = 0; i < n; i++) mems.push(BusMemory.create({ bytes: WASM_PAGE }));
  for (const m of mems) m.release();
  return performance.now() - t0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/**
 * Measures each size (median of `repeats`, after a warm-up run): the full cycle, and
 * the bare bus-memory creation it includes (a shared WebAssembly.Memory plus a core
 * instance), which dominates and is paid to the platform, not to host bookkeeping.
 */
export function run(sizes: number[] = [250, 500, 1000, 2000], repeats = 5): HostScaleRow[] {
  const host = new VbusHost();
  host.registerClass(benchClass);
  cycle(host, 250); // warm-up: JIT and the core module compile
  const idle = idleBusBytes(200);
  const rows: HostScaleRow[] = [];
  for (const n of sizes) {
    const full: number[] = [];
    const mem: number[] = [];
    for (let r = 0; r < repeats; r++) { full.push(cycle(host, n)); mem.push(memoryCycle(n)); }
    rows.push({ case: `bus + ${DEVICES_PER_BUS} devices, create+link+teardown`, impl: 'vbus', n, usPerBus: (median(full) * 1000) / n, idleBusBytes: idle.busMemoryBytes });
    rows.push({ case: 'bus memory only (64 KiB + core instance)', impl: 'vbus', n, usPerBus: (median(mem) * 1000) / n, idleBusBytes: idle.busMemoryBytes });
  }
  host.release();
  return rows;
}

const isMain = (() => {
  const argv1 = (globalThis as { process?: { argv?: string[] } }).process?.argv?.[1];
  return argv1 !== undefined && import.meta.url.endsWith(argv1.replace(/\\/g, '/').split('/').pop()!);
})();

if (isMain) {
  const idle = idleBusBytes(); // first, before the cycles leave garbage behind
  const rows = run();
  console.log(`${'case'.padEnd(44)} impl   n      us/bus   idle bus memory`);
  for (const r of rows) {
    console.log(`${r.case.padEnd(44)} ${r.impl.padEnd(6)} ${String(r.n).padEnd(6)} ${r.usPerBus.toFixed(1).padStart(7)}   ${r.idleBusBytes} B`);
  }
  const fmt = (x: number | undefined) => (x === undefined ? 'n/a' : `${Math.round(x)} B`);
  console.log(`idle bus: ${idle.busMemoryBytes} B of bus memory reserved; per idle bus the process grows by ${fmt(idle.rssPerBus)} resident, ${fmt(idle.heapPerBus)} of JS heap (core instance + host objects)`);
}

/**
 * The checks of a topology file that need the whole document: unique names, links and
 * guests that name declared buses and devices, devices of registered classes with
 * attributes those classes declare (and accept: each value goes through the class's
 * own parser, on a scratch host that is released at once), placements the class
 * supports, bus memory that holds the devices linked to it. Platform-neutral: the
 * caller has already parsed the file, checked it against the schema and loaded the
 * classes. Returns the plan, or the issues found (all of them, not the first).
 */
import { VbusError } from '../errors.js';
import { VbusHost } from '../host/host.js';
import type { DeviceClassSpec } from '../host/device-class.js';
import { BYTES_PATTERN } from './schema.js';
import type { GuestPlan, Topology, TopologyDoc, TopologyIssue } from './types.js';

/** Bus memory when a bus gives none: room for a few guests' rings and call slots. */
export const DEFAULT_BUS_BYTES = 4 * 1024 * 1024;

const UNIT: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Bytes of a `memory:` value (already shape-checked by the schema). */
export function parseMemory(v: number | string): number {
  if (typeof v === 'number') return v;
  const m = new RegExp(BYTES_PATTERN).exec(v)!;
  const digits = /\d+/.exec(v)![0];
  return Number(digits) * UNIT[(m[1] ?? '').charAt(0).toLowerCase()]!;
}

export interface PlanInput {
  doc: TopologyDoc;
  file: string;
  /** Classes the file loads, in file order (index = position in `classes:`); undefined where loading failed. */
  classes: Array<DeviceClassSpec | undefined>;
  /** Resolves a guest's `script` (relative to the file); returns an issue message if it cannot be used. */
  script(path: string): URL | string;
  /** Whether backend placement is possible here. */
  backendAvailable: boolean;
}

export function planTopology(input: PlanInput): { topology?: Topology; issues: TopologyIssue[] } {
  const { doc } = input;
  const issues: TopologyIssue[] = [];
  const add = (path: string, rule: string, message: string): void => { issues.push({ path, rule, message }); };

  const classes = new Map<string, DeviceClassSpec>();
  input.classes.forEach((spec, i) => {
    if (!spec) return;
    if (classes.has(spec.name)) add(`/classes/${i}`, 'unique-name', `class ${spec.name} is loaded twice`);
    else classes.set(spec.name, spec);
  });

  const buses = new Map<string, { name: string; memoryBytes: number; index: number }>();
  (doc.buses ?? []).forEach((b, i) => {
    if (buses.has(b.name)) add(`/buses/${i}/name`, 'unique-name', `bus ${b.name} is declared twice (first at /buses/${buses.get(b.name)!.index})`);
    else buses.set(b.name, { name: b.name, memoryBytes: b.memory === undefined ? DEFAULT_BUS_BYTES : parseMemory(b.memory), index: i });
    const bytes = b.memory === undefined ? DEFAULT_BUS_BYTES : parseMemory(b.memory);
    if (bytes < 65536 || bytes > 1 << 30) add(`/buses/${i}/memory`, 'memory-range', `bus memory ${bytes} bytes must be from 64 KiB to 1 GiB`);
  });

  const devices = new Map<string, { index: number; spec: DeviceClassSpec | undefined }>();
  const scratch = new VbusHost();
  try {
    for (const spec of classes.values()) scratch.registerClass(spec);
    (doc.devices ?? []).forEach((d, i) => {
      if (devices.has(d.name)) { add(`/devices/${i}/name`, 'unique-name', `device ${d.name} is declared twice (first at /devices/${devices.get(d.name)!.index})`); return; }
      const spec = classes.get(d.type);
      devices.set(d.name, { index: i, spec });
      if (!spec) { add(`/devices/${i}/type`, 'known-class', `no device class ${JSON.stringify(d.type)} is loaded (loaded: ${[...classes.keys()].join(', ') || 'none'}; add it under classes:)`); return; }
      if (d.placement === 'backend' && (!spec.backend || !input.backendAvailable)) {
        add(`/devices/${i}/placement`, 'placement', `class ${d.type} cannot run in a backend worker${spec.backend ? ' on this platform' : ' (it has no backend factory)'}; use placement: host`);
      }
      // The class's own parsers judge the values: a scratch device of the class, written in order.
      let dev;
      try { dev = scratch.createDevice(d.name); scratch.setType(dev, d.type); } catch (e) {
        add(`/devices/${i}/type`, 'class-create', `class ${d.type} cannot make device ${d.name}: ${message(e)}`);
        return;
      }
      for (const [k, v] of Object.entries(d.attributes ?? {})) {
        const attr = spec.attributes?.find((a) => a.name === k);
        if (!attr) { add(`/devices/${i}/attributes/${k}`, 'known-attribute', `class ${d.type} has no attribute ${k} (it has: ${(spec.attributes ?? []).map((a) => a.name).join(', ') || 'none'})`); continue; }
        if (attr.mode !== 'rw') { add(`/devices/${i}/attributes/${k}`, 'writable-attribute', `attribute ${k} of class ${d.type} is read-only`); continue; }
        try { dev.setAttr(k, String(v)); } catch (e) { add(`/devices/${i}/attributes/${k}`, 'attribute-value', message(e)); }
      }
    });
  } finally {
    scratch.release();
  }

  const linked = new Map<string, string[]>();
  const seenLinks = new Set<string>();
  (doc.links ?? []).forEach((l, i) => {
    const bus = buses.has(l.bus);
    const dev = devices.get(l.device);
    if (!bus) add(`/links/${i}/bus`, 'known-bus', `link to bus ${l.bus}, which is not declared under buses:`);
    if (!dev) add(`/links/${i}/device`, 'known-device', `link of device ${l.device}, which is not declared under devices:`);
    if (!bus || !dev) return;
    const key = `${l.bus}\0${l.device}`;
    if (seenLinks.has(key)) { add(`/links/${i}`, 'unique-link', `device ${l.device} is linked to bus ${l.bus} twice`); return; }
    seenLinks.add(key);
    const others = [...seenLinks].filter((k) => k.endsWith(`\0${l.device}`)).length;
    if (dev.spec?.exclusive && others > 1) add(`/links/${i}`, 'exclusive', `device ${l.device} (class ${dev.spec.name}) is exclusive: it can be on one bus only`);
    if (dev.spec) linked.set(l.bus, [...(linked.get(l.bus) ?? []), dev.spec.name]);
  });

  // Bus memory must hold the regions the linked devices' classes reserve.
  const sizer = new VbusHost();
  try {
    for (const spec of classes.values()) sizer.registerClass(spec);
    for (const [name, b] of buses) {
      const need = sizer.memoryBytesFor(linked.get(name) ?? []);
      if (b.memoryBytes < need) add(`/buses/${b.index}/memory`, 'memory-fits', `bus ${name} has ${b.memoryBytes} bytes; the devices linked to it need at least ${need}`);
    }
  } finally {
    sizer.release();
  }

  const guests: GuestPlan[] = [];
  const guestNames = new Set<string>();
  (doc.guests ?? []).forEach((g, i) => {
    if (!buses.has(g.bus)) add(`/guests/${i}/bus`, 'known-bus', `guest on bus ${g.bus}, which is not declared under buses:`);
    const url = input.script(g.script);
    if (typeof url === 'string') add(`/guests/${i}/script`, 'script', url);
    const count = g.count ?? 1;
    const base = g.name ?? `${g.bus}-guest`;
    for (let k = 1; k <= count; k++) {
      const name = count === 1 && g.name ? base : `${base}-${k}`;
      if (guestNames.has(name)) { add(`/guests/${i}/name`, 'unique-name', `guest name ${name} is used twice`); break; }
      guestNames.add(name);
      if (typeof url !== 'string') guests.push({ bus: g.bus, name, url, data: g.data });
    }
  });

  if (issues.length > 0) return { issues };
  return {
    issues,
    topology: {
      file: input.file,
      name: doc.name ?? '',
      classes: [...classes.values()],
      buses: [...buses.values()].map(({ name, memoryBytes }) => ({ name, memoryBytes })),
      devices: (doc.devices ?? []).map((d) => ({
        name: d.name, type: d.type, placement: d.placement ?? 'host',
        attributes: Object.entries(d.attributes ?? {}).map(([k, v]) => [k, String(v)] as [string, string]),
      })),
      links: doc.links ?? [],
      guests,
    },
  };
}

function message(e: unknown): string {
  if (e instanceof VbusError) return e.message;
  return String((e as Error)?.message ?? e);
}

// Every shared layout checked against its own declaration: each field inside its record,
// aligned to its width, no two fields overlapping, MAGIC and VERSION first, sizes that
// the allocator can place, the lines that two threads write kept apart. Fields are found
// by name (PREFIX_OFF_*), so a field added later is checked without touching this file.
import { describe, expect, it } from 'vitest';
import * as bus from '../dist/assembly/layout/bus.js';
import * as busctl from '../dist/assembly/layout/busctl.js';
import * as callslot from '../dist/assembly/layout/callslot.js';
import * as decode from '../dist/assembly/layout/decode.js';
import * as errno from '../dist/assembly/layout/errno.js';
import * as event from '../dist/assembly/layout/event.js';
import * as ring from '../dist/assembly/layout/ring.js';
import * as signal from '../dist/assembly/layout/signal.js';
import * as vdisk from '../dist/src/devices/vdisk/abi.js';
import * as venet from '../dist/src/devices/venet/abi.js';
import { ERRNO } from '../dist/src/index.js';

type Consts = Record<string, unknown>;

interface Layout {
  name: string;
  mod: Consts;
  /** Field names start with this (e.g. 'RING_OFF_'). */
  prefix: string;
  /** Bytes of the record the fields live in. */
  bytes: number;
  /** Field widths other than 4 bytes. */
  widths?: Record<string, number>;
  /** Names under the prefix that mark a section or a variable tail, not a field. */
  markers?: string[];
  /** Magic/version come first (a region a peer attaches to by checking them). */
  identity?: boolean;
  /** Placed by the region allocator: size a multiple of REGION_ALIGN. */
  region?: boolean;
}

const L: Layout[] = [
  { name: 'bus header', mod: bus, prefix: 'BUS_OFF_', bytes: bus.BUS_HEADER_BYTES, identity: true, region: true },
  { name: 'bus control', mod: busctl, prefix: 'BUSCTL_OFF_', bytes: busctl.BUSCTL_BYTES, identity: true, region: true, widths: { BUSCTL_OFF_PENDING: busctl.BUSCTL_WORDS * 4 } },
  { name: 'call slot', mod: callslot, prefix: 'SLOT_OFF_', bytes: callslot.SLOT_HEADER_BYTES, identity: true, region: true, markers: ['SLOT_OFF_REQUEST', 'SLOT_OFF_REPLY'] },
  { name: 'request words', mod: callslot, prefix: 'CALL_', bytes: callslot.SLOT_REQUEST_BYTES },
  { name: 'ring header', mod: ring, prefix: 'RING_OFF_', bytes: ring.RING_HEADER_BYTES, identity: true, region: true },
  { name: 'ring record', mod: ring, prefix: 'REC_OFF_', bytes: ring.REC_HEADER_BYTES },
  { name: 'iov entry', mod: ring, prefix: 'IOV_OFF_', bytes: ring.IOV_BYTES },
  { name: 'signal', mod: signal, prefix: 'SIG_OFF_', bytes: signal.SIG_BYTES, identity: true, region: true },
  { name: 'device table entry', mod: decode, prefix: 'DT_OFF_', bytes: decode.DT_ENTRY_BYTES },
  { name: 'handle table entry', mod: decode, prefix: 'HT_OFF_', bytes: decode.HT_ENTRY_BYTES },
  { name: 'DEVADD', mod: event, prefix: 'EV_ADD_OFF_', bytes: event.EV_ADD_BYTES, markers: ['EV_ADD_OFF_IFACE'] },
  { name: 'DEVDROP', mod: event, prefix: 'EV_DROP_OFF_', bytes: event.EV_DROP_BYTES },
  { name: 'DEVEVENT', mod: event, prefix: 'EV_DEV_OFF_', bytes: event.EV_DEV_BYTES },
  { name: 'vdisk info', mod: vdisk, prefix: 'INFO_OFF_', bytes: vdisk.INFO_BYTES },
  { name: 'vdisk request', mod: vdisk, prefix: 'REQ_OFF_', bytes: vdisk.REQ_BYTES },
  { name: 'vdisk completion', mod: vdisk, prefix: 'CPL_OFF_', bytes: vdisk.CPL_BYTES },
  { name: 'venet info', mod: venet, prefix: 'INFO_OFF_', bytes: venet.INFO_BYTES, widths: { INFO_OFF_CLIENT_MAC: 6, INFO_OFF_HOST_MAC: 6 } },
  { name: 'venet event', mod: venet, prefix: 'EVENT_OFF_', bytes: venet.EVENT_BYTES },
  { name: 'ethernet header', mod: venet, prefix: 'ETH_OFF_', bytes: venet.ETH_HEADER_BYTES, widths: { ETH_OFF_DST: 6, ETH_OFF_SRC: 6, ETH_OFF_TYPE: 2 } },
];

function fields(l: Layout): Array<{ name: string; at: number; width: number }> {
  return Object.entries(l.mod)
    .filter(([k, v]) => k.startsWith(l.prefix) && typeof v === 'number' && !(l.markers ?? []).includes(k))
    .map(([name, at]) => ({ name, at: at as number, width: l.widths?.[name] ?? 4 }))
    .sort((a, b) => a.at - b.at);
}

const lineOf = (at: number): number => Math.floor(at / 64);

describe('layouts: the single checked truth', () => {
  for (const l of L) {
    it(`${l.name}: fields inside ${l.bytes} bytes, aligned, not overlapping${l.identity ? ', MAGIC and VERSION first' : ''}`, () => {
      const fs = fields(l);
      expect(fs.length, `no ${l.prefix}* fields found`).toBeGreaterThan(0);
      for (const f of fs) {
        expect(Number.isInteger(f.at) && f.at >= 0, `${f.name} = ${f.at}`).toBe(true);
        expect(f.at + f.width, `${f.name} (+${f.at}, ${f.width} bytes) runs past ${l.bytes}`).toBeLessThanOrEqual(l.bytes);
        if (f.width === 4) expect(f.at % 4, `${f.name} is not 4-aligned`).toBe(0);
      }
      for (let i = 1; i < fs.length; i++) {
        const a = fs[i - 1]!, b = fs[i]!;
        expect(b.at, `${b.name} overlaps ${a.name}`).toBeGreaterThanOrEqual(a.at + a.width);
      }
      if (l.identity) {
        const p = l.prefix;
        expect(l.mod[`${p}MAGIC`], `${p}MAGIC`).toBe(0);
        expect(l.mod[`${p}VERSION`], `${p}VERSION`).toBe(4);
      }
      if (l.region) expect(l.bytes % ring.REGION_ALIGN, `${l.name} size`).toBe(0);
      for (const m of l.markers ?? []) {
        const at = l.mod[m] as number;
        expect(at % 4).toBe(0);
        expect(at).toBeLessThanOrEqual(l.bytes);
      }
    });
  }

  it('the call slot keeps state, request and reply on separate lines, the request words at SLOT_OFF_REQUEST + CALL_*', () => {
    expect(lineOf(callslot.SLOT_OFF_STATE)).toBe(lineOf(callslot.SLOT_OFF_MAGIC));
    expect(callslot.SLOT_OFF_REQUEST % 64).toBe(0);
    expect(callslot.SLOT_OFF_REPLY % 64).toBe(0);
    for (const [k, v] of Object.entries(callslot)) {
      if (!k.startsWith('CALL_')) continue;
      const slotName = `SLOT_OFF_${k.slice('CALL_'.length)}`;
      expect((callslot as Consts)[slotName], slotName).toBe(callslot.SLOT_OFF_REQUEST + (v as number));
      expect(lineOf((callslot as Consts)[slotName] as number)).toBe(lineOf(callslot.SLOT_OFF_REQUEST));
    }
    expect(callslot.SLOT_REQUEST_BYTES).toBe(8 * 4);
    for (const f of ['RSEQ', 'STATUS', 'RLEN', 'RVAL0', 'RVAL3']) {
      expect(lineOf((callslot as Consts)[`SLOT_OFF_${f}`] as number), f).toBe(lineOf(callslot.SLOT_OFF_REPLY));
    }
    expect(new Set([lineOf(callslot.SLOT_OFF_STATE), lineOf(callslot.SLOT_OFF_REQUEST), lineOf(callslot.SLOT_OFF_REPLY)]).size).toBe(3);
  });

  it('a ring keeps identity, producer and consumer words on three lines; a signal keeps its statistics off the control line', () => {
    const lines = [ring.RING_OFF_MAGIC, ring.RING_OFF_TAIL, ring.RING_OFF_HEAD].map(lineOf);
    expect(new Set(lines).size).toBe(3);
    expect(lineOf(ring.RING_OFF_RESERVE)).toBe(lineOf(ring.RING_OFF_TAIL));
    expect(lineOf(ring.RING_OFF_READ)).toBe(lineOf(ring.RING_OFF_HEAD));
    expect(ring.RING_HEADER_BYTES).toBe(3 * ring.RING_LINE);
    expect(lineOf(signal.SIG_OFF_PENDING)).toBe(lineOf(signal.SIG_OFF_ENABLED));
    expect(lineOf(signal.SIG_OFF_RAISED)).not.toBe(lineOf(signal.SIG_OFF_PENDING));
    expect(busctl.BUSCTL_OFF_PENDING + busctl.BUSCTL_WORDS * 4).toBeLessThanOrEqual(busctl.BUSCTL_BYTES);
    expect(busctl.BUSCTL_MAX_MEMBERS).toBe(busctl.BUSCTL_WORDS * 32);
    expect(bus.BUS_FIRST_REGION % ring.REGION_ALIGN).toBe(0);
    expect(bus.BUS_FIRST_REGION).toBeGreaterThanOrEqual(bus.BUS_HEADER_BYTES);
  });

  it('every region kind has its own magic, so one cannot be taken for another', () => {
    const magics = [bus.BUS_MAGIC, busctl.BUSCTL_MAGIC, callslot.SLOT_MAGIC, ring.RING_MAGIC, signal.SIG_MAGIC];
    expect(new Set(magics).size).toBe(magics.length);
    for (const m of magics) expect(m).not.toBe(0);
  });

  it('errno numbers come from one table: ERRNO is that table, with no number used twice', () => {
    const table = Object.entries(errno).filter(([k]) => k.startsWith('ERR_'));
    expect(Object.keys(ERRNO).sort()).toEqual(table.map(([k]) => k.slice(4)).sort());
    for (const [k, v] of table) expect((ERRNO as Record<string, number>)[k.slice(4)], k).toBe(v);
    expect(new Set(table.map(([, v]) => v)).size).toBe(table.length);
  });

  it('event records: the largest fits the guest scratch bound, names fit EV_IFACE_MAX', () => {
    expect(event.EV_RECORD_MAX).toBe(event.EV_ADD_BYTES + event.EV_IFACE_MAX);
    expect(event.EV_ADD_OFF_IFACE).toBe(event.EV_ADD_BYTES); // the name is DEVADD's variable tail
    expect(event.EV_DEV_BYTES).toBeLessThanOrEqual(event.EV_RECORD_MAX);
  });
});

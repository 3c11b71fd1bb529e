// vdisk power cut: a child process runs a host with a file-backed vdisk and a guest
// doing a random write/flush workload; it reports every acknowledged write and flush on
// stdout before going on. The test SIGKILLs it at a random moment, many times over the
// same file, and checks after each kill that every write acknowledged before the submit
// of the last acknowledged flush is on the file byte for byte (or overwritten by a later
// write), and that every block is whole: zeros or exactly one write's bytes.
// SIGKILL ends the process, not the kernel: this proves the host acknowledges a FLUSH
// only once the writes before it reached the file, not that the disk cache survives.
// VBUS_LONG=1 runs many more kills.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Prng } from '../dist/src/testing/index.js';
import { BLOCK, readBlock } from './fixtures/vdisk-powercut-pattern.mjs';

const LONG = process.env.VBUS_LONG === '1';
const KILLS = LONG ? 200 : 20;
const CAPACITY = 1 << 20;
const HOST = fileURLToPath(new URL('./fixtures/vdisk-powercut-host.mjs', import.meta.url));

interface Line { t: string; seq?: number; block?: number; n?: number; flush?: number; code?: string; message?: string }

/** Runs the child until it has run `delayMs` past its first acknowledged write, kills it, returns every line it wrote. */
function runAndKill(args: string[], delayMs: number): Promise<Line[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HOST, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: Line[] = [];
    let buf = '', err = '', armed = false;
    const guard = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`child made no progress in 20 s: ${err}`)); }, 20_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s: string) => {
      buf += s;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const l = JSON.parse(buf.slice(0, nl)) as Line;
        buf = buf.slice(nl + 1);
        lines.push(l);
        if (l.t === 'W' && !armed) { armed = true; setTimeout(() => child.kill('SIGKILL'), delayMs); }
      }
    });
    child.stderr.on('data', (s) => { err += String(s); });
    child.on('close', (_code, signal) => {
      clearTimeout(guard);
      if (signal !== 'SIGKILL') reject(new Error(`child ended by itself (${signal}): ${err}`));
      else resolve(lines); // lines still in the pipe at the kill were written by the child: real acknowledgements
    });
  });
}

type Stamp = { epoch: number; seq: number };
const later = (a: Stamp, b: Stamp) => a.epoch > b.epoch || (a.epoch === b.epoch && a.seq >= b.seq);

describe('vdisk power cut (SIGKILL of the host process)', () => {
  it.each(['host', 'backend'] as const)(`loses no write acknowledged before an acknowledged flush, ${KILLS / 2} kills, device in the %s thread`, async (placement) => {
    const dir = mkdtempSync(join(tmpdir(), 'vdisk-powercut-'));
    try {
      const path = join(dir, 'disk.img');
      const rng = new Prng(placement === 'host' ? 0xc0ffee : 0xbadcab);
      const required = new Map<number, Stamp>(); // block -> oldest write it may hold
      let verified = 0, acked = 0, flushesAcked = 0, killsWithFlush = 0;
      for (let epoch = 1; epoch <= KILLS / 2; epoch++) {
        const lines = await runAndKill([path, String(CAPACITY), placement, String(rng.next()), String(epoch)], 20 + rng.below(200));
        expect(lines.filter((l) => l.t === 'error')).toEqual([]);
        // Writes acknowledged before each flush's submit; the last acknowledged flush covers them.
        const writes: Line[] = [];
        const coveredAt = new Map<number, number>();
        let covered = 0;
        for (const l of lines) {
          if (l.t === 'W') writes.push(l);
          else if (l.t === 'S') coveredAt.set(l.flush!, writes.length);
          else if (l.t === 'F') { covered = Math.max(covered, coveredAt.get(l.flush!)!); flushesAcked++; }
        }
        acked += writes.length;
        if (covered > 0) killsWithFlush++;
        for (const w of writes.slice(0, covered)) {
          for (let b = w.block!; b < w.block! + w.n!; b++) {
            const prev = required.get(b);
            if (!prev || later({ epoch, seq: w.seq! }, prev)) required.set(b, { epoch, seq: w.seq! });
          }
        }
        const file = new Uint8Array(readFileSync(path));
        expect(file.length).toBe(CAPACITY);
        const lost: string[] = [];
        for (let b = 0; b < CAPACITY / BLOCK; b++) {
          const got = readBlock(file, b * BLOCK);
          const want = required.get(b);
          if (!got) {
            if (want || file.subarray(b * BLOCK, (b + 1) * BLOCK).some((x) => x !== 0)) lost.push(`block ${b}: torn or missing (want ${JSON.stringify(want)})`);
            continue;
          }
          if (got.block !== b) lost.push(`block ${b} holds block ${got.block}'s write`);
          else if (want && !later(got, want)) lost.push(`block ${b}: holds ${JSON.stringify(got)}, older than flushed ${JSON.stringify(want)}`);
          else if (want) verified++;
        }
        expect(lost.slice(0, 5), `after kill ${epoch}`).toEqual([]);
      }
      // The kills landed during real work: writes and flushes were acknowledged.
      expect(acked).toBeGreaterThan(0);
      expect(flushesAcked).toBeGreaterThan(0);
      expect(killsWithFlush).toBeGreaterThan(KILLS / 4);
      console.log(`vdisk power cut (${placement}): ${KILLS / 2} kills, ${acked} writes acknowledged, ${flushesAcked} flushes acknowledged, ${verified} block checks of flushed writes, 0 lost`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, LONG ? 600_000 : 120_000);
});

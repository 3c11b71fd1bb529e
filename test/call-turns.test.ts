// Call turns (src/core/call-turns.ts), by behaviour: a lone busy caller keeps the turn,
// spaced-out calls never wait, a holder that stops calling is passed over, a waiter whose
// deadline comes leaves and is skipped, busy threads take turns one at a time and in
// rotation, hostile writes to the words cost latency only, and guests take turns (or opt
// out) through spawnGuest. Counts and orders, never times.
import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { CallTurns, TURN_WORDS, TURN_LAYOUT, callsPerTurn, ROUND_CALLS, TURN_CALLS, MIN_TURN_CALLS, BUSY_GAP_MS } from '../dist/src/internal.js';
import { VbusHost, type GuestWorker } from '../dist/src/index.js';
import { echoModel } from './fixtures/echo-model.mjs';

const DIST = new URL('../dist/src/internal.js', import.meta.url).href;
const CALLER = new URL('./fixtures/turn-caller.mjs', import.meta.url);

function words(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(TURN_WORDS * 4));
}

/** A clock the test moves by hand, ms. */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

/** One busy call on `t`: enter and exit; returns whether it held the turn. */
function call(t: CallTurns): boolean {
  const holds = t.enter();
  t.exit();
  return holds;
}

describe('one thread', () => {
  it('a busy caller takes the free turn at its second call and keeps it while nobody waits', () => {
    const t = new CallTurns(words());
    expect(call(t)).toBe(false); // the first call is not a busy caller's: it goes out at once
    for (let i = 0; i < 1000; i++) expect(call(t)).toBe(true);
    expect(t.stats).toMatchObject({ taken: 1, passed: 0, bypassed: 1, lost: 0 });
    expect(t.holds()).toBe(true);
  });

  it('calls spaced further apart than BUSY_GAP_MS never queue', () => {
    const clock = manualClock();
    const t = new CallTurns(words(), { clock: clock.now });
    for (let i = 0; i < 50; i++) {
      expect(call(t)).toBe(false);
      clock.advance(BUSY_GAP_MS * 2);
    }
    expect(t.stats).toMatchObject({ taken: 0, bypassed: 50 });
  });

  it('the head passes the turn on for a holder that stopped calling; that holder queues again at its next call', () => {
    const w = words();
    const a = new CallTurns(w, { stallMs: 5 });
    const b = new CallTurns(w, { stallMs: 5 });
    call(a); call(a); // a holds the turn and stops calling
    expect(a.holds()).toBe(true);
    call(b); // spaced: goes out at once
    expect(b.enter()).toBe(true); // busy: waits as the head, finds the holder idle, takes the turn
    b.exit();
    expect(b.stats).toMatchObject({ taken: 1, kicked: 1 });
    expect(a.holds()).toBe(false);
    // a's next call finds the turn gone, queues behind b (which has stopped too) and gets it back the same way.
    expect(a.enter()).toBe(true);
    a.exit();
    expect(a.stats).toMatchObject({ taken: 2, lost: 1, kicked: 1 });
  });

  it('a waiter whose deadline comes calls without the turn, and the next pass skips its ticket', () => {
    const w = words();
    const a = new CallTurns(w, { stallMs: 60_000 });
    const b = new CallTurns(w, { stallMs: 60_000 });
    call(a); call(a);
    call(b);
    expect(b.enter(performance.now() + 5)).toBe(false); // gave up after 5 ms
    b.exit();
    expect(b.stats).toMatchObject({ taken: 0, waitsGivenUp: 1 });
    // a sees someone in line (b's ticket), so after a turn's calls it passes: the pass
    // skips b's abandoned ticket, finds nobody else, and the turn is free for a's next call.
    const inTurn = callsPerTurn(2);
    for (let i = 0; i < inTurn + 1; i++) expect(call(a)).toBe(true);
    expect(a.stats).toMatchObject({ passed: 1, taken: 2 });
  });

  it('a pass names the next holder\'s bus, from the key its waiter left, before that waiter runs', () => {
    const w = words();
    const a = new CallTurns(w);
    a.key = 11;
    call(a);
    expect(call(a)).toBe(true); // a holds ticket 0
    const { NEXT, HOLDER, SLOT0, KEY0 } = TURN_LAYOUT;
    expect(Atomics.load(w, HOLDER)).toBe(11);
    // A waiter with ticket 1, as its thread leaves things before it parks: its key beside
    // its slot, then the slot says WAITING. No thread runs it, so only the pass can name it.
    Atomics.store(w, NEXT, 2);
    Atomics.store(w, KEY0 + 1, 22);
    Atomics.store(w, SLOT0 + 1, (1 << 2) | 1);
    let calls = 0;
    while (a.keep()) { a.exit(); if (++calls > callsPerTurn(2)) break; } // keep() says no once it has passed
    expect(a.stats.passed).toBe(1);
    expect(Atomics.load(w, SLOT0 + 1)).toBe((1 << 2) | 2); // granted to ticket 1
    expect(Atomics.load(w, HOLDER)).toBe(22); // and its bus named, though it has not run
  });

  it('a holder is told to spin for its answers only while others wait for the turn', () => {
    const w = words();
    const a = new CallTurns(w);
    expect(a.holdsWhileWaited()).toBe(false); // holds nothing
    call(a);
    expect(call(a)).toBe(true); // a holds ticket 0, alone
    expect(a.holdsWhileWaited()).toBe(false); // nobody waits: its own spin policy decides
    const { NEXT, NOW } = TURN_LAYOUT;
    Atomics.store(w, NEXT, 2); // ticket 1 waits
    expect(a.holdsWhileWaited()).toBe(true);
    Atomics.store(w, NOW, 1); // the turn moved on (a kick)
    expect(a.holdsWhileWaited()).toBe(false);
  });

  it('calls per turn shrink as the line grows, within their bounds', () => {
    expect(callsPerTurn(2)).toBe(TURN_CALLS);
    expect(callsPerTurn(256)).toBe(Math.max(MIN_TURN_CALLS, Math.floor(ROUND_CALLS / 256)));
    expect(callsPerTurn(100_000)).toBe(MIN_TURN_CALLS);
    for (let n = 2; n < 600; n++) expect(callsPerTurn(n + 1)).toBeLessThanOrEqual(callsPerTurn(n));
  });
});

interface CallerResult { id: number; stats: { taken: number; passed: number; waitsGivenUp: number; bypassed: number } }

/** The log's words: inside, most inside, log length, ready, go, then the log. */
const LOG0 = 5;

function newLog(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * (LOG0 + 4096)));
}

/** Runs `n` turn-caller threads on `w`, started together; resolves with their counters. */
async function runCallers(w: Int32Array, log: Int32Array, n: number, calls: number, opts: { stallMs: number; maxWaitMs: number }): Promise<CallerResult[]> {
  Atomics.store(log, 3, 0);
  Atomics.store(log, 4, 0);
  const done = Promise.all(Array.from({ length: n }, (_, id) => new Promise<CallerResult>((resolve, reject) => {
    const worker = new Worker(CALLER, { workerData: { dist: DIST, words: w.buffer, log: log.buffer, id, calls, ...opts } });
    worker.once('message', (m) => { resolve(m as CallerResult); void worker.terminate(); });
    worker.once('error', reject);
  })));
  while (Atomics.load(log, 3) < n) await new Promise((r) => setTimeout(r, 5));
  Atomics.store(log, 4, 1);
  Atomics.notify(log, 4);
  return done;
}

describe('threads', () => {
  it('busy threads hold the turn one at a time and get it in rotation', async () => {
    const w = words();
    const log = newLog();
    const CALLERS = 4;
    const CALLS = 3000;
    // No stall bound (so nobody is passed over because the machine did not run it) and no wait bound.
    const results = await runCallers(w, log, CALLERS, CALLS, { stallMs: 60_000, maxWaitMs: 60_000 });
    expect(Atomics.load(log, 1)).toBe(1); // never two holders inside at once
    for (const r of results) {
      expect(r.stats.waitsGivenUp).toBe(0);
      expect(r.stats.taken).toBeGreaterThan(0);
    }
    expect(results.reduce((a, r) => a + r.stats.passed, 0)).toBeGreaterThan(CALLERS); // they did take turns
    // A pass goes to the oldest ticket in line, and a thread that passes queues behind
    // it: so no thread ever follows itself in the log of turns.
    const len = Math.min(Atomics.load(log, 2), log.length - LOG0);
    const order = Array.from(log.subarray(LOG0, LOG0 + len));
    const repeats = order.filter((id, i) => i > 0 && order[i - 1] === id).length;
    expect(repeats).toBe(0);
  });

  it('random writes to the words while threads call cost latency only: every call ends, and turns work again afterwards', async () => {
    const w = words();
    const log = newLog();
    let scribbling = true;
    let writes = 0;
    const scribble = (async () => {
      let x = 0x2545f491;
      while (scribbling) {
        for (let k = 0; k < 64; k++) {
          x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
          Atomics.store(w, (x >>> 0) % TURN_WORDS, x ^ (x >>> 3));
          writes++;
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    const during = await runCallers(w, log, 4, 2000, { stallMs: 1, maxWaitMs: 20 });
    scribbling = false;
    await scribble;
    expect(writes).toBeGreaterThan(1000);
    expect(during).toHaveLength(4); // every thread made all of its calls
    // The same words, garbage and all: new busy threads still take turns.
    const after = await runCallers(w, log, 4, 2000, { stallMs: 5, maxWaitMs: 60_000 });
    for (const r of after) {
      expect(r.stats.waitsGivenUp).toBe(0);
      expect(r.stats.taken).toBeGreaterThan(0);
    }
    expect(after.reduce((a, r) => a + r.stats.passed, 0)).toBeGreaterThan(4);
  });
});

describe('guests', () => {
  const GUEST_URL = new URL('./fixtures/guest-turns.mjs', import.meta.url);

  function nextMessage(g: GuestWorker): Promise<any> {
    return new Promise((resolve, reject) => {
      g.onMessage(resolve);
      void g.exited.then((c) => reject(new Error(`guest exited with ${c}`)));
    });
  }

  async function busyGuests(callTurns: boolean | undefined): Promise<Array<{ callsOk: number; taken: number; passed: number }>> {
    const host = new VbusHost();
    host.registerClass({ name: 'test-echo', interfaces: ['test-echo'], create: () => echoModel() });
    try {
      const guests: GuestWorker[] = [];
      for (let i = 0; i < 6; i++) {
        const bus = host.createBus(`turns-${i}`, { memoryBytes: 256 << 10 });
        const echo = host.createDevice(`echo-${i}`);
        host.setType(echo, 'test-echo');
        host.link(bus, echo);
        guests.push(host.spawnGuest(bus, GUEST_URL, { data: { calls: 3000, seed: i }, ...(callTurns !== undefined ? { callTurns } : {}) }));
      }
      await Promise.all(guests.map(nextMessage)); // ready
      const results = guests.map(nextMessage);
      for (const g of guests) g.postMessage('go');
      return await Promise.all(results);
    } finally {
      await host.connector.release();
    }
  }

  it('busy guests take turns by default, every call answered byte for byte', async () => {
    const done = await busyGuests(undefined);
    expect(done.map((r) => r.callsOk)).toEqual(Array(6).fill(3000));
    expect(done.every((r) => r.taken > 0)).toBe(true);
    expect(done.reduce((a, r) => a + r.passed, 0)).toBeGreaterThan(0);
  });

  it('spawnGuest refuses a callTurns that is not a boolean, and starts nothing', () => {
    const host = new VbusHost();
    const bus = host.createBus('turns-bad', { memoryBytes: 64 << 10 });
    expect(() => host.spawnGuest(bus, GUEST_URL, { callTurns: 'no' as unknown as boolean })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(host.stats().members).toBe(0);
    host.release();
  });

  it('spawnGuest({ callTurns: false }) opts a guest out: its calls never wait for a turn', async () => {
    const done = await busyGuests(false);
    expect(done.map((r) => r.callsOk)).toEqual(Array(6).fill(3000));
    expect(done.map((r) => r.taken)).toEqual(Array(6).fill(0));
  });
});

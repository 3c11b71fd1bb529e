// The foundation page: checks cross-origin isolation, then runs the echo host on this
// (main) thread against an echo guest in a module Web Worker, and shows live numbers.
// `window.vbusDemo` exposes the state and counters for tests.
import { loadCoreModule, spawnWorker } from './dist/src/browser.js';
import { EchoHost } from './dist/src/demo/echo-host.js';
import { checkIsolation, setState as setPageState, showError as showPageError } from './page-status.js';

const $ = (id) => document.getElementById(id);
const demo = { state: 'loading', error: null, stats: null, rate: 0, samples: 0, guestExit: null };
window.vbusDemo = demo;

const setState = (state) => setPageState(demo, state);
const showError = (title, err, list) => showPageError(demo, title, err, list);

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const history = [];

function drawPlot() {
  const canvas = $('plot');
  const ctx = canvas.getContext('2d');
  const { width: w, height: h } = canvas;
  ctx.clearRect(0, 0, w, h);
  const max = Math.max(1, ...history);
  ctx.strokeStyle = '#2f6fb0';
  ctx.lineWidth = 2;
  ctx.beginPath();
  history.forEach((v, i) => {
    const x = (i / 59) * (w - 8) + 4;
    const y = h - 6 - (v / max) * (h - 24);
    if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
  });
  ctx.stroke();
  ctx.fillStyle = '#5b6772';
  ctx.font = '12px system-ui';
  ctx.fillText(`records/s, peak ${fmt(max)}`, 8, 14);
}

let host = null;
let worker = null;

async function startGuest(module) {
  host = new EchoHost({ module, seed: 0x5eed });
  worker = spawnWorker(new URL('./echo-worker.js', import.meta.url), host.start, { name: 'echo-guest' });
  worker.onError((e) => { setState('error'); showError('The guest worker failed.', e); });
  worker.onExit((code) => { demo.guestExit = code; });
  await new Promise((resolve) => worker.onMessage((m) => { if (m && m.type === 'echo-ready') resolve(); }));
  const box = $('status');
  box.className = 'status ok';
  box.textContent = `Cross-origin isolated. Guest "${worker.name}" is running in a module Web Worker; records flow both ways.`;
  setState('running');
  host.run().catch((e) => { setState('error'); showError('The host loop failed.', e); });
}

async function stopGuest() {
  host.stop();
  await worker.exited;
  setState('stopped');
  $('status').className = 'status';
  $('status').textContent = `Guest stopped (exit code ${demo.guestExit}).`;
}

function tick(lastRef) {
  if (!host) return;
  const s = host.stats();
  const now = performance.now();
  const dt = (now - lastRef.t) / 1000;
  const rate = (s.received - lastRef.received) / dt;
  const mbps = (s.bytes - lastRef.bytes) / dt / 1e6;
  lastRef.t = now; lastRef.received = s.received; lastRef.bytes = s.bytes;
  demo.stats = s;
  demo.rate = rate;
  demo.samples++;
  history.push(rate);
  if (history.length > 60) history.shift();
  $('rate').textContent = fmt(rate);
  $('mbps').textContent = mbps.toFixed(1);
  $('counts').textContent = `${fmt(s.sent)} / ${fmt(s.received)}`;
  $('verified').textContent = s.mismatches === 0
    ? `${fmt(s.verified)} ok, 0 mismatches`
    : `${fmt(s.mismatches)} MISMATCHES: ${s.firstError}`;
  $('sig-guest').textContent = `${fmt(s.toGuest.raised)} / ${fmt(s.toGuest.suppressed)}`;
  $('sig-host').textContent = `${fmt(s.toHost.raised)} / ${fmt(s.toHost.suppressed)}`;
  $('parks').textContent = fmt(s.hostParks);
  drawPlot();
}

async function main() {
  if (!checkIsolation(demo)) return;
  const module = await loadCoreModule();
  $('live').hidden = false;
  const last = { t: performance.now(), received: 0, bytes: 0 };
  setInterval(() => tick(last), 500);
  $('stop').onclick = async () => {
    $('stop').hidden = true;
    await stopGuest();
    $('restart').hidden = false;
  };
  $('restart').onclick = async () => {
    $('restart').hidden = true;
    last.received = 0; last.bytes = 0; last.t = performance.now();
    await startGuest(module);
    $('stop').hidden = false;
  };
  await startGuest(module);
}

main().catch((e) => { setState('error'); showError('The demo failed to start.', e); });

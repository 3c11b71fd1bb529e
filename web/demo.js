// The demo page: a DemoLab (dist/src/demo/lab.js) on this main thread, built from the
// same topology file as `npm start` and `vbus run` (examples/topologies/demo.yaml,
// fetched from the server and planned by the same code), guests as module Web Workers
// (./demo-guest.js), controls to make buses and devices, link and unlink them, start
// and stop guests; live plots from the stats region's counters; the /sys/vbus tree
// redrawn on every change. `window.vbusDemo` exposes the state for tests.
import { loadCoreModule, loadMessageCoreModule } from './dist/src/browser.js';
import { DemoLab } from './dist/src/demo/lab.js';
import { fetchTopology } from './dist/src/topology/fetch.js';
import { topologyLibs } from './dist/src/topology/libs.browser.js';
import { checkIsolation, setState as setPageState, showError as showPageError } from './page-status.js';
import { choosePageTransport, describeTransport } from './transport-mode.js';

const $ = (id) => document.getElementById(id);
const demo = { state: 'loading', error: null, samples: 0, last: null, tree: '', log: [], renders: 0, transport: null, isolation: null, topology: null };

/** The topology the page builds (`?topology=NAME.yaml` picks another file of examples/topologies/). */
const TOPOLOGY_URL = new URL(`./examples/topologies/${new URLSearchParams(location.search).get('topology') ?? 'demo.yaml'}`, import.meta.url);
/**
 * The file's guests run the demo guest; its Node entry (the script as demo.yaml names
 * it, relative to the file) becomes the page's Web Worker entry. Resolved against the
 * file, not this module, so the page never treats the Node entry as a worker it loads.
 */
const NODE_DEMO_GUEST = new URL('../../dist/src/demo/guest-node.js', TOPOLOGY_URL);
const PAGE_DEMO_GUEST = new URL('./demo-guest.js', import.meta.url);
const guestScript = (url) => (url.href === NODE_DEMO_GUEST.href ? PAGE_DEMO_GUEST
  : `guest script ${url.pathname} cannot run in this page: it runs the demo guest only (script: ../../dist/src/demo/guest-node.js, started as demo-guest.js in a Web Worker)`);
window.vbusDemo = demo;

const setState = (state) => setPageState(demo, state);
const showError = (title, err, list) => showPageError(demo, title, err, list);

/** Shows a failed action (a VbusError's message names what was wrong) without stopping the page. */
function actionError(e) {
  const box = $('error-box');
  box.hidden = false;
  box.textContent = e instanceof Error ? e.message : String(e);
  clearTimeout(actionError.timer);
  actionError.timer = setTimeout(() => { box.hidden = true; }, 6000);
}

const act = (fn) => async (...args) => { try { await fn(...args); } catch (e) { actionError(e); } render(); };

const el = (tag, props = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e[k] = v;
  }
  e.append(...children);
  return e;
};

const fmt = (n) => Math.round(n).toLocaleString('en-US');

// ---- plots -------------------------------------------------------------------------

const HISTORY = 120;
const COLORS = ['#2f6fb0', '#c0692f', '#2f8f4e'];

class Plot {
  constructor(canvas, names, { percent = false } = {}) {
    this.canvas = canvas;
    this.names = names;
    this.percent = percent;
    this.series = names.map(() => []);
  }
  push(values) {
    values.forEach((v, i) => { this.series[i].push(v); if (this.series[i].length > HISTORY) this.series[i].shift(); });
    this.draw();
  }
  draw() {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth || c.width; const h = c.clientHeight || c.height;
    if (c.width !== Math.round(w * dpr)) { c.width = Math.round(w * dpr); c.height = Math.round(h * dpr); }
    const ctx = c.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const max = this.percent ? 100 : Math.max(1, ...this.series.flat()) * 1.1;
    ctx.strokeStyle = '#e3e7eb'; ctx.lineWidth = 1;
    for (let g = 1; g < 4; g++) { const y = 18 + (h - 24) * g / 4; ctx.beginPath(); ctx.moveTo(0, y); ctx.lineTo(w, y); ctx.stroke(); }
    this.series.forEach((s, i) => {
      ctx.strokeStyle = COLORS[i]; ctx.lineWidth = 2; ctx.beginPath();
      s.forEach((v, j) => {
        const x = w - 4 - (s.length - 1 - j) * (w - 8) / (HISTORY - 1);
        const y = h - 6 - (v / max) * (h - 26);
        if (j === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
      });
      ctx.stroke();
    });
    ctx.font = '11px system-ui'; ctx.textBaseline = 'top';
    ctx.fillStyle = '#5b6772';
    ctx.fillText(this.percent ? 'scale 0–100 %' : `scale 0–${fmt(max)}`, 6, 4);
    let x = w - 6;
    for (let i = this.names.length - 1; i >= 0; i--) {
      const label = this.names[i];
      x -= ctx.measureText(label).width;
      ctx.fillStyle = COLORS[i]; ctx.fillText(label, x, 4);
      x -= 14;
    }
  }
}

// ---- the lab and its views -----------------------------------------------------------

let lab = null;
let plots = null;
let renderQueued = false;

/** Redraws the buses, devices, guests and tree (on the next frame, once per burst of changes). */
function render() {
  if (renderQueued || !lab) return;
  renderQueued = true;
  requestAnimationFrame(() => { renderQueued = false; renderNow(); });
  // rAF does not run in a hidden tab; a timer makes sure the view still catches up.
  setTimeout(() => { if (renderQueued) { renderQueued = false; renderNow(); } }, 100);
}

function renderNow() {
  demo.renders++;
  const host = lab.host;
  const buses = host.buses();
  const guestsOn = (bus) => [...lab.guests.values()].filter((g) => g.bus === bus && g.exitCode === null);

  $('buses').replaceChildren(...buses.map((b) => el('tr', {},
    el('td', { className: 'name', textContent: b.name }),
    el('td', {},
      el('div', { className: 'meta', textContent: `${b.deviceCount} device(s), ${guestsOn(b.name).length} guest(s), ${(b.memory.byteLength / 1048576).toFixed(0)} MiB` }),
      el('button', { textContent: 'Start guest', dataset: { action: 'start-guest', bus: b.name }, onclick: act(() => lab.startGuest(b.name)) }),
      el('button', { textContent: 'Destroy', dataset: { action: 'destroy-bus', bus: b.name }, onclick: act(() => lab.destroyBus(b.name)) })))));

  $('devices').replaceChildren(...host.devices().map((d) => el('tr', {},
    el('td', { className: 'name', textContent: d.name }),
    el('td', {},
      el('div', { className: 'meta', textContent: `${d.deviceClass?.name ?? 'untyped'}${d.links().length ? ' on ' + d.links().map((l) => `${l.bus.name}:${l.id}`).join(', ') : ''}` }),
      ...buses.map((b) => {
        const linked = !!d.linkTo(b);
        return el('button', {
          className: linked ? 'linked' : '',
          textContent: linked ? `unlink ${b.name}` : `link ${b.name}`,
          title: linked ? `unlink ${d.name} from bus ${b.name}` : `link ${d.name} to bus ${b.name}`,
          dataset: { action: linked ? 'unlink' : 'link', device: d.name, bus: b.name },
          onclick: act(() => (linked ? lab.unlink(b.name, d.name) : lab.link(b.name, d.name))),
        });
      }),
      el('button', { textContent: 'Destroy', dataset: { action: 'destroy-device', device: d.name }, onclick: act(() => lab.destroyDevice(d.name)) })))));

  $('guests').replaceChildren(...[...lab.guests.values()].map((g) => el('tr', {},
    el('td', { className: 'name', textContent: g.name }),
    el('td', {},
      el('div', { className: 'meta', textContent: g.exitCode === null
        ? `bus ${g.bus}, member ${g.worker.memberId}, ${g.counters.devices} device(s): rx ${fmt(g.counters.framesRx)} frames, disk ${fmt(g.counters.diskWrites + g.counters.diskReads)} ops, ${fmt(g.counters.rngBytes)} B entropy`
        : `bus ${g.bus}: exited (${g.exitCode})` }),
      g.exitCode === null
        ? el('button', { textContent: 'Stop', dataset: { action: 'stop-guest', guest: g.name }, onclick: act(() => lab.stopGuest(g.name)) })
        : ''))));

  demo.tree = lab.tree();
  $('tree').textContent = demo.tree;
}

function appendLog(e) {
  demo.log.push({ guest: e.guest, event: e.event, text: e.text });
  const li = el('li', { className: e.event, textContent: `${e.t.toFixed(1).padStart(6)}s ${e.guest} ${e.event}: ${e.text}` });
  const list = $('log');
  list.append(li);
  while (list.children.length > 300) list.firstChild.remove();
  list.scrollTop = list.scrollHeight;
  render(); // guest counts and member lists change with starts and exits
}

function tick() {
  const s = lab.sample();
  demo.last = s;
  demo.samples++;
  plots.frames.push([s.guestFramesPerSec]);
  plots.calls.push([s.callsPerSec, s.diskOpsPerSec]);
  plots.occ.push([s.occupancy * 100, s.maxOccupancy * 100]);
  plots.sig.push([s.raisedPerSec, s.suppressedPerSec]);
  $('v-frames').textContent = fmt(s.guestFramesPerSec);
  $('v-calls').textContent = `${fmt(s.callsPerSec)} / ${fmt(s.diskOpsPerSec)}`;
  $('v-occ').textContent = `${(s.occupancy * 100).toFixed(0)} % / ${(s.maxOccupancy * 100).toFixed(0)} %`;
  $('v-sig').textContent = `${fmt(s.raisedPerSec)} / ${fmt(s.suppressedPerSec)}`;
  const lines = lab.consoleLines.slice(-12).map((c) => `${c.device}> ${c.line}`).join('\n');
  if ($('console').textContent !== lines) { $('console').textContent = lines; $('console').scrollTop = $('console').scrollHeight; }
  if (demo.samples % 4 === 0) render(); // guest counters in the list
}

/** The starting point: the topology file's classes, buses, devices, links, then its guests. */
function buildFromFile(topo) {
  lab.build(topo);
  for (const g of topo.guests) lab.startGuest(g.bus, g.name, g.data ?? {}, g.url);
  demo.topology = {
    file: topo.file, name: topo.name, buses: topo.buses.map((b) => b.name), devices: topo.devices.map((d) => d.name),
    links: topo.links.map((l) => `${l.bus}/${l.device}`), guests: topo.guests.map((g) => g.name),
  };
  const link = el('a', { href: TOPOLOGY_URL.href, textContent: topo.file });
  $('topology').replaceChildren('Built from ', link, ` (${topo.name}): ${topo.buses.length} buses, ${topo.devices.length} devices, ${topo.links.length} links, ${topo.guests.length} guests — the file npm start and vbus run use.`);
}

async function main() {
  const mode = await choosePageTransport();
  if (!mode.transport) { checkIsolation(demo); return; } // says which headers are missing
  demo.transport = mode.transport;
  demo.isolation = mode.isolation;
  document.body.dataset.transport = mode.transport;
  const [topo] = await Promise.all([
    fetchTopology(TOPOLOGY_URL, topologyLibs, { script: guestScript }),
    mode.transport === 'shared' ? loadCoreModule() : loadMessageCoreModule(),
  ]);
  lab = new DemoLab({ guestUrl: PAGE_DEMO_GUEST, transport: mode.transport, registerClasses: false });
  demo.lab = lab;
  $('live').hidden = false;
  plots = {
    frames: new Plot($('plot-frames'), ['frames/s']),
    calls: new Plot($('plot-calls'), ['calls/s', 'disk ops/s']),
    occ: new Plot($('plot-occ'), ['all rings %', 'fullest %'], { percent: true }),
    sig: new Plot($('plot-sig'), ['raised/s', 'suppressed/s']),
  };
  $('dev-type').replaceChildren(...lab.classes().map((c) => el('option', { value: c.name, textContent: c.name, title: c.description })));
  $('bus-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(() => { lab.createBus($('bus-name').value.trim()); $('bus-name').value = ''; })();
  });
  $('dev-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(() => { lab.createDevice($('dev-name').value.trim(), $('dev-type').value); $('dev-name').value = ''; })();
  });
  for (const ev of ['bus-create', 'bus-destroy', 'device-create', 'device-destroy', 'link', 'unlink', 'member-join', 'member-leave']) {
    lab.host.events.on(ev, () => render());
  }
  lab.onLog(appendLog);
  buildFromFile(topo);
  render();
  lab.sample();
  setInterval(tick, 500);
  const box = $('status');
  box.className = 'status ok';
  box.textContent = `${describeTransport(mode)} The host runs on this page's main thread; each guest is a module Web Worker.`;
  setState('running');
}

main().catch((e) => { setState('error'); showError('The demo failed to start.', e); });

// The v86 page: the host on this main thread; a v86 VM (./v86-guest.js) on bus `vm` with
// a venet-switch port and a vconsole, a ping peer (./v86-peer.js) on bus `lan`. The image
// and v86 itself are served by the demo server (/v86/image/, /v86/lib/).
// `window.vbusV86` exposes the state for tests.
import { VbusHost, loadCoreModule, registerVenetClasses, vconsoleClass } from './dist/src/browser.js';
import { V86Console, V86_DEFAULT_MEMORY, V86_PROMPT, v86Cmdline } from './dist/src/v86/index.js';
import { checkIsolation, setState as setPageState, showError as showPageError } from './page-status.js';

const $ = (id) => document.getElementById(id);
const page = { state: 'loading', error: null, bootMs: null, peer: { arp: 0, echo: 0 }, v86: null, console: null };
window.vbusV86 = page;
const setState = (s) => setPageState(page, s);

async function bytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status} (build the image with scripts/build-v86-image.sh)`);
  return r.arrayBuffer();
}

async function main() {
  if (!checkIsolation(page)) return;
  await loadCoreModule();
  const host = new VbusHost();
  registerVenetClasses(host);
  host.registerClass(vconsoleClass);
  const sw = host.createDevice('sw0');
  host.setType(sw, 'venet-switch');
  sw.setAttr('features_cap', 'tx_done'); // a real kernel fills in its checksums
  const vm = host.createBus('vm', { memoryBytes: 4 << 20 });
  const lan = host.createBus('lan', { memoryBytes: 4 << 20 });
  host.link(vm, sw);
  const con = host.createDevice('ttyS0');
  host.setType(con, 'vconsole');
  host.link(vm, con);
  host.link(lan, sw);

  const peer = host.spawnGuest(lan, new URL('./v86-peer.js', import.meta.url), { data: { dev: 0, ip: '10.86.0.2' } });
  peer.onMessage((m) => { if (m.event === 'peer-stats') page.peer = { arp: m.arp, echo: m.echo }; });

  const out = new V86Console(con.model);
  page.console = out;
  const screen = $('console');
  con.model.onOutput(() => { screen.textContent = out.output.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').slice(-20000); screen.scrollTop = screen.scrollHeight; });

  $('status').textContent = 'Loading v86 and the guest image…';
  const [wasmBytes, bios, vgaBios, bzimage, initrd] = await Promise.all(
    ['./v86/lib/v86.wasm', './v86/image/bios.bin', './v86/image/vgabios.bin', './v86/image/vmlinuz', './v86/image/initrd.img'].map(bytes));
  const data = {
    lib: new URL('./v86/lib/libv86.mjs', import.meta.url).href,
    wasm: await WebAssembly.compile(wasmBytes),
    image: { bios, vgaBios, bzimage, initrd },
    cmdline: v86Cmdline('10.86.0.10/24'),
    memoryBytes: V86_DEFAULT_MEMORY,
    nic: 'ne2k',
    netDevice: 0,
    consoleDevice: 1,
  };
  const started = performance.now();
  const guest = host.spawnGuest(vm, new URL('./v86-guest.js', import.meta.url), { data, name: 'v86' });
  guest.onMessage((m) => {
    if (m.event === 'v86-stats') page.v86 = m;
    if (m.event === 'v86-error') { setState('error'); showPageError(page, 'The v86 guest failed.', m.message); }
  });
  setState('booting');
  $('status').textContent = 'Booting Linux in v86…';
  await out.waitFor(/vbus-v86: \S+ ready/, 600_000);
  await out.type('');
  await out.waitFor(V86_PROMPT, 60_000);
  page.bootMs = Math.round(performance.now() - started);
  $('status').textContent = `Shell prompt after ${(page.bootMs / 1000).toFixed(1)} s.`;
  setState('ready');
  $('line').addEventListener('submit', (e) => { e.preventDefault(); void out.type($('cmd').value); $('cmd').value = ''; });
  setInterval(() => {
    const v = page.v86;
    $('stats').textContent = `NIC frames out ${v?.framesOut ?? 0}, in ${v?.framesIn ?? 0}; peer answered ARP ${page.peer.arp}, echo ${page.peer.echo}`;
  }, 1000);
}

main().catch((e) => { setState('error'); showPageError(page, 'The v86 page failed to start.', e); });

/**
 * `npm run bench -- v86`: two v86 VMs (Debian's i386 kernel, ne2k NIC) on two buses
 * joined by a venet-switch, and a vbus ping peer on a third bus. Reports each VM's boot
 * to a shell prompt and ping round trips VM -> VM and VM -> vbus guest (busybox ping,
 * one a 200 ms), measured by the guest kernel. Needs the image (scripts/build-v86-image.sh).
 */
import { VbusHost, registerVenetClasses, vconsoleClass, type ConsoleModel } from '../../src/index.js';
import { spawnV86 } from '../../src/platform/node-v86.js';
import { V86Console, V86_PROMPT } from '../../src/v86/index.js';
import { median, percentile } from '../harness/stats.js';
import type { BenchModule, BenchOptions, Row } from '../harness/types.js';

const PEER_URL = new URL('../../src/v86/ping-peer-node.js', import.meta.url);
const BOOT_MS = 600_000;

/** Round-trip times (µs) from busybox ping's `time=X ms` lines. */
function rtts(text: string): number[] {
  return [...text.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]) * 1000);
}

async function run(opts: BenchOptions): Promise<Row[]> {
  const count = opts.quick ? 5 : 50;
  const host = new VbusHost();
  registerVenetClasses(host);
  host.registerClass(vconsoleClass);
  try {
    const sw = host.createDevice('sw0');
    host.setType(sw, 'venet-switch');
    sw.setAttr('features_cap', 'tx_done');
    const vms: Array<{ out: V86Console; ip: string; bootMs: number }> = [];
    const peerBus = host.createBus('lan', { memoryBytes: 4 << 20 });
    host.link(peerBus, sw);
    host.spawnGuest(peerBus, PEER_URL, { data: { dev: 0, ip: '10.86.1.2' } });
    const starts: Array<Promise<void>> = [];
    for (const [i, ip] of ['10.86.1.10', '10.86.1.11'].entries()) {
      const bus = host.createBus(`vm${i}`, { memoryBytes: 4 << 20 });
      host.link(bus, sw);
      const con = host.createDevice(`ttyS0-vm${i}`);
      host.setType(con, 'vconsole');
      host.link(bus, con);
      const out = new V86Console(con.model as ConsoleModel);
      const vm = { out, ip, bootMs: 0 };
      vms.push(vm);
      const t0 = performance.now();
      starts.push((async () => {
        await spawnV86(host, bus, { ip: `${ip}/24`, netDevice: 0, consoleDevice: 1 });
        await out.waitFor(/vbus-v86: \S+ ready/, BOOT_MS);
        await out.type('');
        await out.waitFor(V86_PROMPT, 60_000);
        vm.bootMs = performance.now() - t0;
        opts.progress(vms.filter((v) => v.bootMs > 0).length, 4, `vm${i} booted`);
      })());
    }
    await Promise.all(starts);
    const rows: Row[] = [];
    for (const [i, vm] of vms.entries()) {
      rows.push({ case: 'boot-to-shell', impl: `v86-vm${i}`, bytes: 0, opsPerSec: 1000 / vm.bootMs, p50us: vm.bootMs * 1000, placement: 'unpinned', threads: 1, repeats: 1, note: 'both VMs booting at once' });
    }
    for (const [what, ip] of [['ping-vm-vm', vms[1]!.ip], ['ping-vm-vbus-guest', '10.86.1.2']] as const) {
      const text = await vms[0]!.out.run(`ping -c ${count} -i 0.2 -W 5 ${ip}`, 60_000 + count * 1000);
      const t = rtts(text);
      if (t.length < count) throw new Error(`${what}: ${t.length} of ${count} replies\n${text}`);
      rows.push({ case: what, impl: 'v86-ne2k', bytes: 64, opsPerSec: 1e6 / median(t), p50us: percentile(t, 50), p99us: percentile(t, 99), placement: 'unpinned', threads: 4, repeats: 1, note: `${count} pings from vm0 (busybox ping, 56 data bytes)` });
      opts.progress(rows.length - 1, 4, what);
    }
    return rows;
  } finally {
    await host.connector.release();
    host.release();
  }
}

export const v86Bench: BenchModule = {
  description: 'two v86 VMs (Debian i386 kernel) on two buses and a switch: boot to shell, ping RTT VM-VM and VM-vbus guest',
  references: [],
  run,
};

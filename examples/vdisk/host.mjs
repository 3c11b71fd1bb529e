// A vdisk backed by a file: the guest writes blocks, flushes, reads them back; the host
// then checks the file itself holds what was written.
// Run: node examples/vdisk/host.mjs
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VbusHost, vdiskClass } from 'vbus';

const dir = mkdtempSync(join(tmpdir(), 'vbus-example-'));
const file = join(dir, 'disk.img');

const host = new VbusHost();
host.registerClass(vdiskClass);
const bus = host.createBus('vm1', { memoryBytes: 4 << 20 });
const disk = host.createDevice('disk0');
host.setType(disk, 'vdisk');
disk.setAttr('src_path', file); // created (sparse) if missing
disk.setAttr('capacity', '1M'); // configuration is fixed once the device is linked
disk.setAttr('block_size', '4096');
host.link(bus, disk);

const guest = host.spawnGuest(bus, new URL('./guest.mjs', import.meta.url));
guest.onMessage((m) => console.log('guest:', JSON.stringify(m)));
const { code } = await guest.exited;
await host.release(); // closes the file

const bytes = readFileSync(file);
const ok = bytes.subarray(4096, 8192).every((b, i) => b === (i & 0xff));
console.log(`guest exit ${code}; file ${bytes.length} bytes; block 1 on file ${ok ? 'matches' : 'DIFFERS'}`);
rmSync(dir, { recursive: true, force: true });
process.exitCode = code === 0 && ok ? 0 : 1;

/**
 * Replays the original vbus admin walkthrough step by step through the admin view, with
 * the document's names, and compares every `tree` output with the document's, line for
 * line (the expected output is data: test/fixtures/admin-walkthrough.json). Then tears down in the document's order and checks the
 * tree is back to the boot state.
 *
 * The class is the real venet-tap (src/devices/venet/tap-class.ts), its models observed
 * by a spy that records the hooks the host calls: a fresh real venet-tap shows exactly
 * the document's client_mac, enabled, host_mac and ifname.
 */
import { describe, expect, it } from 'vitest';
import { VbusHost, VbusError, venetTapClass } from '../dist/src/index.js';
import { readWalkthrough, TreeBlock } from './fixtures/admin-walkthrough.js';
import { RecordingModel, recordingVenetTap } from './fixtures/venet-tap-fixture.js';
import { adminView } from '../dist/src/index.js';

const BUS = 'beb4df8f-7483-4028-b3f7-767512e2a18c';
const DEV = '6a1aff24-5dc0-4aea-9c35-435daef90e55';
const SHELL = 4382; // the shell that wrote /proc/self/vbus
const TREE_PID = 4588; // the `tree` process it forked

const seed = readWalkthrough();

/** The document's blocks, in order; each step below names the one it must print. */
function block(n: number): TreeBlock {
  const b = seed.blocks[n];
  if (!b) throw new Error(`the walkthrough has ${seed.blocks.length} tree blocks; block ${n} is missing`);
  return b;
}

/** `tree` as the document ran it (the block's root line is the argument it was given). */
function expectTree(host: VbusHost, b: TreeBlock): void {
  if (b.command) expect(b.command).toBe(`tree ${b.root}`);
  expect(adminView(host).tree(b.root).split('\n')).toEqual(b.text.split('\n'));
}

function thrown(fn: () => unknown): VbusError {
  try { fn(); } catch (err) { if (err instanceof VbusError) return err; throw err; }
  throw new Error('expected a VbusError');
}

describe('admin walkthrough', () => {
  it('finds the eleven tree outputs the document prints', () => {
    expect(seed.blocks.map((b) => b.root)).toEqual([
      '/sys/vbus/', '/config/vbus/', '/sys/vbus', '/sys/vbus/', '/sys/vbus', '/sys/vbus/deviceclass/',
      '/sys/vbus/', '/sys/vbus/', `/sys/vbus/devices/${DEV}/interfaces/`, `/sys/vbus/instances/${BUS}/devices/`, '/sys/vbus/',
    ]);
  });

  it('replays every step and prints the same trees', () => {
    const host = new VbusHost();
    const admin = adminView(host);
    const models: RecordingModel[] = [];

    // At boot-up
    expectTree(host, block(0));
    expectTree(host, block(1));

    // # modprobe venet-tap
    host.registerClass(recordingVenetTap(models));
    expectTree(host, block(2));

    // # mkdir /config/vbus/instances/$(uuidgen)
    admin.mkdir(`/config/vbus/instances/${BUS}`);
    expectTree(host, block(3));

    // # mkdir /config/vbus/devices/$(uuidgen)
    admin.mkdir(`/config/vbus/devices/${DEV}`);
    expectTree(host, block(4));

    // # echo foo > /config/vbus/devices/DEV/type  ->  write error: No such file or directory
    const before = admin.dump('/');
    const echoCmd = `echo foo > /config/vbus/devices/${DEV}/type`;
    expect(seed.outputs.get(echoCmd)).toEqual(['bash: echo: write error: No such file or directory']);
    const err = thrown(() => admin.write(`/config/vbus/devices/${DEV}/type`, 'foo\n'));
    expect(err.code).toBe('ENOENT');
    expect(err.message).toContain('No such file or directory');
    expect(err.message).toContain(`/config/vbus/devices/${DEV}/type`);
    expect(admin.dump('/')).toBe(before);

    // # tree /sys/vbus/deviceclass/
    expectTree(host, block(5));

    // # echo venet-tap > /config/vbus/devices/DEV/type
    admin.write(`/config/vbus/devices/${DEV}/type`, 'venet-tap\n');
    expectTree(host, block(6));
    expect(models).toHaveLength(1);
    expect(admin.read(`/config/vbus/devices/${DEV}/type`)).toBe('venet-tap\n');
    // the real class: ifname reports its (not yet opened) endpoint, and it starts disabled
    expect(admin.read(`/sys/vbus/devices/${DEV}/ifname`)).toBe('udp:127.0.0.1:0\n');
    expect(admin.read(`/sys/vbus/devices/${DEV}/enabled`)).toBe('0\n');

    // ln -s /config/vbus/devices/DEV/ /config/vbus/instances/BUS/
    expect(seed.links).toEqual([{ target: `/config/vbus/devices/${DEV}/`, link: `/config/vbus/instances/${BUS}/` }]);
    const bus = host.bus(BUS)!;
    const added: Array<[number, string]> = [];
    bus.events.on('device-add', (id, d) => added.push([id, d.name]));
    admin.symlink(seed.links[0]!.target, seed.links[0]!.link);
    expect(added).toEqual([[0, DEV]]);
    expect(models[0]!.calls).toEqual([{ hook: 'linked', bus: BUS, id: 0 }]);
    expectTree(host, block(7));
    expectTree(host, block(8)); // the device's interfaces/0 link
    expectTree(host, block(9)); // the bus's devices/0
    expect(admin.readlink(`/sys/vbus/devices/${DEV}/interfaces/0`)).toBe(`../../../instances/${BUS}/devices/0`);
    // following the interface link reaches the bus side
    expect(admin.read(`/sys/vbus/devices/${DEV}/interfaces/0/type`)).toBe('virtual-ethernet\n');

    // # echo BUS > /proc/self/vbus   (self = the shell, 4382), then `tree` runs as its child 4588
    expect(seed.outputs.has(`echo ${BUS} > /proc/self/vbus`)).toBe(true);
    admin.write(`/proc/${SHELL}/vbus`, `${BUS}\n`);
    const shell = host.member(SHELL)!;
    const treeProc = host.join(BUS, shell, { id: TREE_PID });
    expect(treeProc.bus).toBe(bus);
    expect(shell.children).toEqual([treeProc]);
    expectTree(host, block(10)); // two members
    host.leave(treeProc); // the tree process exits
    expect(bus.members().map((m) => m.id)).toEqual([SHELL]);

    // # cat /sys/vbus/instances/BUS/devices/0/type  ->  virtual-ethernet
    const catCmd = `cat /sys/vbus/instances/${BUS}/devices/0/type`;
    expect(admin.read(`/sys/vbus/instances/${BUS}/devices/0/type`)).toBe(seed.outputs.get(catCmd)!.join('\n') + '\n');
    expect(admin.read(`/sys/vbus/instances/${BUS}/devices/0/type`)).toBe('virtual-ethernet\n');

    // rmmod while configured is refused (the infrastructure holds a module reference)
    expect(thrown(() => host.unregisterClass('venet-tap')).code).toBe('EBUSY');

    // Teardown, in the document's order:
    // echo 0 > /proc/self/vbus
    admin.write(`/proc/${SHELL}/vbus`, '0\n');
    expect(bus.memberCount).toBe(0);
    // rm the symlink between the bus and device
    admin.unlink(`/config/vbus/instances/${BUS}/${DEV}`);
    expect(models[0]!.calls.at(-1)).toEqual({ hook: 'unlinked', bus: BUS, id: 0 });
    // rmdir the bus and device objects
    admin.rmdir(`/config/vbus/instances/${BUS}`);
    admin.rmdir(`/config/vbus/devices/${DEV}`);
    expect(models[0]!.calls.at(-1)).toEqual({ hook: 'release' });
    expect(bus.memory.isReleased).toBe(true);
    expectTree(host, block(2)); // back to just the class
    // rmmod venet-tap
    host.unregisterClass('venet-tap');
    expectTree(host, block(0));
    expectTree(host, block(1));
    expect(host.stats()).toEqual({ classes: 0, devices: 0, buses: 0, members: 0, links: 0, busMemoryBytes: 0, transports: { shared: 0, message: 0 } });
  });

  it('the typed API builds the same state as the path view', () => {
    const host = new VbusHost();
    host.registerClass(venetTapClass);
    const bus = host.createBus(BUS);
    const dev = host.createDevice(DEV);
    host.setType(dev, 'venet-tap');
    expect(host.link(bus, dev)).toBe(0);
    const shell = host.join(bus, { id: SHELL });
    host.fork(shell, { id: TREE_PID });
    expectTree(host, block(10));
    expect(dev.interfaceType).toBe('virtual-ethernet');
    expect(dev.links().map((l) => [l.bus.name, l.id, l.index])).toEqual([[BUS, 0, 0]]);
    host.teardown();
    expectTree(host, block(2));
    host.release();
    expectTree(host, block(0));
  });
});

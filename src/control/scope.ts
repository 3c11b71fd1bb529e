/**
 * What a delegated client (holding a capability for one bus) may do, decided before
 * anything runs so that a refusal changes nothing:
 *
 * - its bus exists for it: `/sys/vbus/instances/BUS/**` and `/config/vbus/instances/BUS/**`
 *   (read, list, tree; `rm` of a link there unlinks a device from its bus), the
 *   devices linked to its bus under `/sys/vbus/devices/DEV/` (read and write their
 *   attributes; their `interfaces/` would name other buses and is refused), and
 *   `spawn` of guests on its bus;
 * - other buses do not exist for it: ENOENT, and listings of `instances/` show its bus only;
 * - everything else (classes, other devices, mkdir, rmdir, /proc, grant, stop) is EACCES.
 *
 * Paths are judged after following every symlink (as `realpath` does), so a link
 * inside the bus cannot lead out of it.
 */
import { vbusError } from '../errors.js';
import type { VbusHost } from '../host/host.js';
import { applyComponents, splitPath } from '../admin/paths.js';

const MAX_HOPS = 40;

export class BusScope {
  constructor(private readonly host: VbusHost, readonly bus: string) {}

  /** Canonical components of `path` with every link followed (what exists is up to the view). */
  canonical(path: string): string[] {
    const admin = this.host.admin;
    let todo = splitPath(path);
    let done: string[] = [];
    let hops = 0;
    while (todo.length) {
      const name = todo.shift()!;
      const here = [...done, name];
      let target: string | undefined;
      try { target = admin.readlink('/' + here.join('/')); } catch { target = undefined; }
      if (target !== undefined) {
        if (++hops > MAX_HOPS) throw vbusError('EINVAL', `too many levels of symbolic links in ${path}`, { path });
        todo = [...(target.startsWith('/') ? splitPath(target) : applyComponents(done, target.split('/'))), ...todo];
        done = [];
        continue;
      }
      done = here;
    }
    return done;
  }

  /** Devices linked to the bus, by name. */
  private devicesOnBus(): Set<string> {
    return new Set(this.host.bus(this.bus)?.devices().map((d) => d.device.name) ?? []);
  }

  /**
   * Checks `path` for `what` (`read`: cat/ls/tree/readlink; `write`: attribute writes;
   * `unlink`: rm). Throws ENOENT for another bus, EACCES for anything outside the bus.
   */
  check(path: string, what: 'read' | 'write' | 'unlink', followLast = true): void {
    const lexical = splitPath(path);
    this.otherBus(lexical, path);
    const p = followLast ? this.canonical(path) : [...this.canonical('/' + lexical.slice(0, -1).join('/')), ...lexical.slice(-1)];
    this.otherBus(p, path);
    const deny = (): never => { throw vbusError('EACCES', `${path}: Permission denied: this client holds a capability for bus ${this.bus} only`, { path, bus: this.bus }); };
    const inBus = (root: string): boolean => p.length >= 4 && p[0] === root && p[1] === 'vbus' && p[2] === 'instances' && p[3] === this.bus;
    if (what === 'unlink') {
      if (inBus('config') && p.length === 5) return;
      deny();
    }
    if (inBus('sys') || inBus('config')) {
      if (what === 'write') deny();
      return;
    }
    // A device on the bus: its attributes, not its interfaces (they name other buses).
    if (p.length >= 4 && p[0] === 'sys' && p[1] === 'vbus' && p[2] === 'devices' && this.devicesOnBus().has(p[3]!)) {
      if (p.length === 4 && what === 'read') return;
      if (p.length === 5 && p[4] !== 'interfaces' && p[4] !== 'class') return;
    }
    deny();
  }

  /** Whether `path` is exactly an `instances/` directory (its listing shows the bus alone). */
  isInstancesDir(path: string): boolean {
    const p = splitPath(path);
    return p.length === 3 && (p[0] === 'sys' || p[0] === 'config') && p[1] === 'vbus' && p[2] === 'instances';
  }

  /** ENOENT if `parts` names an instance other than the bus. */
  private otherBus(parts: string[], path: string): void {
    if (parts.length >= 4 && (parts[0] === 'sys' || parts[0] === 'config') && parts[1] === 'vbus' && parts[2] === 'instances' && parts[3] !== this.bus) {
      throw vbusError('ENOENT', `${path}: No such file or directory`, { path });
    }
  }
}

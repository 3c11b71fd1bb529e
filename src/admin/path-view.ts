/**
 * The admin view: the host's state as the original's file systems, so an operator (or
 * a test replaying the original walkthrough) drives it with paths.
 *
 * - `/config/vbus` (configfs): `mkdir`/`rmdir` devices and instances, `write` a
 *   device's `type` and attributes, `symlink`/`unlink` devices into instances.
 * - `/sys/vbus` (sysfs): the reflection, read with `read`, `readdir`, `tree`.
 * - `/proc/ID/vbus`: membership (write a bus name to join, `0` to leave).
 *
 * File contents are read and written as a shell shows them: `read` returns the text
 * with a trailing newline (what `cat` prints), `write` drops one trailing newline
 * (what `echo` adds). Every failure is a `VbusError` whose message starts with the
 * operation and the path (`write /config/vbus/devices/X/type: No such file or
 * directory: ...`), and leaves the state unchanged. Codes: ENOENT (missing entry,
 * unknown class or bus), EEXIST (name taken, type already set), EBUSY (in use),
 * EINVAL (bad path, name or value), ENOTDIR (a file used as a directory), EISDIR
 * (a directory used as a file), EACCES (write to a read-only file), EPERM (the
 * operation is not one this place supports, e.g. `mkdir` under `/sys`).
 */
import { VbusError, vbusError } from '../errors.js';
import type { VbusHost } from '../host/host.js';
import { configfsRoot } from './configfs.js';
import { DirNode, Node, staticDir } from './nodes.js';
import { applyComponents, compareNames, joinPath, splitPath } from './paths.js';
import { joinByProcWrite, procfsRoot } from './procfs.js';
import { sysfsRoot } from './sysfs.js';
import { renderTree } from './tree.js';

/** Most symlinks followed while resolving one path (Linux's limit). */
const MAX_LINK_HOPS = 40;

interface Resolved {
  node: Node;
  /** Canonical components of the node (after following links on the way). */
  parts: string[];
}

export class AdminView {
  private readonly root: DirNode;

  /** The view of `host` (also `adminView(host)`). It holds no state of its own. */
  constructor(readonly host: VbusHost) {
    this.root = staticDir({
      config: () => configfsRoot(host),
      proc: () => procfsRoot(host),
      sys: () => sysfsRoot(host),
    });
  }

  /** Creates a device (`/config/vbus/devices/NAME`) or a bus (`/config/vbus/instances/NAME`). */
  mkdir(path: string): void {
    this.op('mkdir', path, () => {
      const { dir, name } = this.parentOf(path);
      if (dir.lookup(name)) throw vbusError('EEXIST', 'File exists');
      if (!dir.mkdir) throw vbusError('EPERM', 'Operation not permitted: directories cannot be created here');
      dir.mkdir(name);
    });
  }

  /** Destroys a device or bus (EBUSY while in use). */
  rmdir(path: string): void {
    this.op('rmdir', path, () => {
      const { dir, name } = this.parentOf(path);
      const node = dir.lookup(name);
      if (!node) throw vbusError('ENOENT', 'No such file or directory');
      if (node.kind !== 'dir') throw vbusError('ENOTDIR', 'Not a directory');
      if (!dir.rmdir) throw vbusError('EPERM', 'Operation not permitted: this directory cannot be removed');
      dir.rmdir(name);
    });
  }

  /** Writes a file (one trailing newline is dropped). EACCES for read-only files. */
  write(path: string, text: string): void {
    this.op('write', path, () => {
      if (typeof text !== 'string') throw vbusError('EINVAL', `value must be text, not ${typeof text}`);
      const value = text.endsWith('\n') ? text.slice(0, -1) : text;
      const parts = splitPath(path);
      // /proc/ID/vbus of an id that is not a member yet: writing a bus name joins it.
      if (parts.length === 3 && parts[0] === 'proc' && parts[2] === 'vbus' && /^[1-9]\d*$/.test(parts[1]!)
        && !this.host.member(Number(parts[1]))) {
        joinByProcWrite(this.host, Number(parts[1]), value);
        return;
      }
      const { node } = this.resolve(parts, true);
      if (node.kind === 'dir') throw vbusError('EISDIR', 'Is a directory');
      if (node.kind !== 'file' || !node.write) throw vbusError('EACCES', 'Permission denied: read-only file');
      node.write(value);
    });
  }

  /** Reads a file, with a trailing newline as `cat` prints it. */
  read(path: string): string {
    return this.op('read', path, () => {
      const { node } = this.resolve(splitPath(path), true);
      if (node.kind === 'dir') throw vbusError('EISDIR', 'Is a directory');
      return (node as { read(): string }).read() + '\n';
    });
  }

  /** The target of a symlink, as printed by `tree` and `readlink`. EINVAL if not a link. */
  readlink(path: string): string {
    return this.op('readlink', path, () => {
      const { node } = this.resolve(splitPath(path), false);
      if (node.kind !== 'link') throw vbusError('EINVAL', 'Invalid argument: not a symbolic link');
      return node.target;
    });
  }

  /** Sorted entry names of a directory. */
  readdir(path: string): string[] {
    return this.op('readdir', path, () => this.dirAt(path).list().sort(compareNames));
  }

  /** Whether `path` exists (without following a final symlink). */
  exists(path: string): boolean {
    try {
      this.resolve(splitPath(path), false);
      return true;
    } catch (err) {
      if (err instanceof VbusError && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return false;
      throw err;
    }
  }

  /**
   * `ln -s TARGET LINKPATH`: links a device into a bus, e.g.
   * `symlink('/config/vbus/devices/D/', '/config/vbus/instances/B/')`. When LINKPATH is
   * an existing directory the link is made inside it, named after the target; a
   * relative TARGET is taken from the link's directory. The link name must be the
   * device's name.
   */
  symlink(target: string, linkPath: string): void {
    this.op('symlink', linkPath, () => {
      if (typeof target !== 'string' || target === '') throw vbusError('EINVAL', `link target ${JSON.stringify(target)} is empty`);
      const linkParts = splitPath(linkPath);
      let dirParts: string[];
      let name: string;
      // The link itself exists (a device already linked there): EEXIST, rather than
      // following it into the device's directory, where no link can be made.
      if (linkParts.length > 0 && this.tryResolve(linkParts, false)?.node.kind === 'link') {
        throw vbusError('EEXIST', `File exists: ${joinPath(linkParts)} is already a link`);
      }
      const existing = this.tryResolve(linkParts, true);
      if (existing?.node.kind === 'dir' && linkParts.length > 0) {
        dirParts = existing.parts;
        const t = applyComponents([], target.split('/'));
        if (t.length === 0) throw vbusError('EINVAL', `link target ${target} has no name`);
        name = t[t.length - 1]!;
      } else {
        if (linkParts.length === 0) throw vbusError('EEXIST', 'File exists');
        dirParts = this.resolveDirParts(linkParts.slice(0, -1));
        name = linkParts[linkParts.length - 1]!;
      }
      const dir = this.resolve(dirParts, true).node as DirNode;
      if (dir.lookup(name)) throw vbusError('EEXIST', `File exists: ${joinPath([...dirParts, name])}`);
      if (!dir.symlink) throw vbusError('EPERM', 'Operation not permitted: links cannot be made here');
      const targetParts = target.startsWith('/') ? splitPath(target) : applyComponents(dirParts, target.split('/'));
      dir.symlink(name, targetParts);
    });
  }

  /** Removes a symlink (unlinks a device from a bus). */
  unlink(path: string): void {
    this.op('unlink', path, () => {
      const { dir, name } = this.parentOf(path);
      const node = dir.lookup(name);
      if (!node) throw vbusError('ENOENT', 'No such file or directory');
      if (node.kind === 'dir') throw vbusError('EISDIR', 'Is a directory');
      if (node.kind !== 'link' || !dir.unlink) throw vbusError('EPERM', 'Operation not permitted');
      dir.unlink(name);
    });
  }

  /** `tree PATH`: the first line is PATH exactly as given (with or without a trailing slash). */
  tree(path: string): string {
    return this.op('tree', path, () => renderTree(path, this.dirAt(path)));
  }

  /**
   * Every entry under `path` with file contents, one per line (`path/to/file = text`,
   * `path/to/link -> target`, `path/to/dir/`): a complete picture of the state for
   * before/after comparisons, which `tree` alone does not give (it omits contents).
   */
  dump(path = '/'): string {
    return this.op('dump', path, () => {
      const lines: string[] = [];
      const walk = (dir: DirNode, parts: string[]): void => {
        for (const name of dir.list().sort(compareNames)) {
          const node = dir.lookup(name);
          if (!node) continue;
          const p = joinPath([...parts, name]);
          if (node.kind === 'dir') { lines.push(`${p}/`); walk(node, [...parts, name]); }
          else if (node.kind === 'link') lines.push(`${p} -> ${node.target}`);
          else lines.push(`${p} = ${JSON.stringify(node.read())}`);
        }
      };
      const { node, parts } = this.resolve(splitPath(path), true);
      if (node.kind !== 'dir') throw vbusError('ENOTDIR', 'Not a directory');
      walk(node, parts);
      return lines.join('\n') + '\n';
    });
  }

  // ---- resolution ----

  private dirAt(path: string): DirNode {
    const { node } = this.resolve(splitPath(path), true);
    if (node.kind !== 'dir') throw vbusError('ENOTDIR', 'Not a directory');
    return node;
  }

  /** The parent directory (links followed) and last name of `path`. */
  private parentOf(path: string): { dir: DirNode; name: string } {
    const parts = splitPath(path);
    if (parts.length === 0) throw vbusError('EPERM', 'Operation not permitted on /');
    const dir = this.resolve(this.resolveDirParts(parts.slice(0, -1)), true).node as DirNode;
    return { dir, name: parts[parts.length - 1]! };
  }

  /** Canonical components of a directory path; ENOENT/ENOTDIR otherwise. */
  private resolveDirParts(parts: string[]): string[] {
    const r = this.resolve(parts, true);
    if (r.node.kind !== 'dir') throw vbusError('ENOTDIR', `Not a directory: ${joinPath(r.parts)}`);
    return r.parts;
  }

  private tryResolve(parts: string[], followLast: boolean): Resolved | undefined {
    try {
      return this.resolve(parts, followLast);
    } catch (err) {
      if (err instanceof VbusError && err.code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Walks `parts` from the root, following links on the way (and at the end if `followLast`). */
  private resolve(parts: string[], followLast: boolean): Resolved {
    let todo = [...parts];
    let done: string[] = [];
    let node: Node = this.root;
    let hops = 0;
    while (todo.length > 0) {
      if (node.kind !== 'dir') throw vbusError('ENOTDIR', `Not a directory: ${joinPath(done)}`);
      const name = todo.shift()!;
      const next: Node | undefined = node.lookup(name);
      if (!next) throw vbusError('ENOENT', `No such file or directory: ${joinPath([...done, name])}`);
      if (next.kind === 'link' && (todo.length > 0 || followLast)) {
        if (++hops > MAX_LINK_HOPS) throw vbusError('EINVAL', `too many levels of symbolic links at ${joinPath([...done, name])}`);
        const target = next.target.startsWith('/') ? applyComponents([], next.target.split('/')) : applyComponents(done, next.target.split('/'));
        todo = [...target, ...todo];
        done = [];
        node = this.root;
        continue;
      }
      done.push(name);
      node = next;
    }
    return { node, parts: done };
  }

  /** Runs one operation; prefixes every error with the operation and the path. */
  private op<T>(what: string, path: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof VbusError)) throw err;
      const inner = err.message.startsWith(`${err.code}: `) ? err.message.slice(err.code.length + 2) : err.message;
      throw vbusError(err.code, `${what} ${path}: ${inner}`, { ...err.details, path });
    }
  }
}

const views = new WeakMap<VbusHost, AdminView>();

/**
 * The admin view of `host`, built from it (the host does not know its views): one per
 * host, made on first use.
 */
export function adminView(host: VbusHost): AdminView {
  let v = views.get(host);
  if (!v) { v = new AdminView(host); views.set(host, v); }
  return v;
}

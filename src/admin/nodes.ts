/**
 * The admin view's file-system nodes. They are made on demand from the host's state
 * (nothing is cached), so the view can never disagree with the typed API. A
 * directory may implement the operations that make sense at its place (configfs
 * directories accept mkdir, rmdir, symlink, unlink); everything else is refused by
 * the view with EPERM.
 */

/** A directory. */
export interface DirNode {
  readonly kind: 'dir';
  /** Entry names (unsorted; the view sorts). */
  list(): string[];
  /** The entry `name`, or undefined. */
  lookup(name: string): Node | undefined;
  mkdir?(name: string): void;
  rmdir?(name: string): void;
  /** Makes entry `name` a link to the absolute, normalised `target` (components). */
  symlink?(name: string, target: readonly string[]): void;
  unlink?(name: string): void;
}

/** A text file (an attribute). Contents are read and written without the trailing newline. */
export interface FileNode {
  readonly kind: 'file';
  read(): string;
  write?(text: string): void;
}

/** A symbolic link, with its target as the view prints it (relative, like sysfs). */
export interface LinkNode {
  readonly kind: 'link';
  readonly target: string;
}

export type Node = DirNode | FileNode | LinkNode;

/** A directory whose entries are fixed at construction. */
export function staticDir(entries: Record<string, () => Node>): DirNode {
  return {
    kind: 'dir',
    list: () => Object.keys(entries),
    lookup: (name) => (Object.hasOwn(entries, name) ? entries[name]!() : undefined),
  };
}

/** A read-only file with computed contents. */
export function roFile(read: () => string): FileNode {
  return { kind: 'file', read };
}

/** A link node. */
export function link(target: string): LinkNode {
  return { kind: 'link', target };
}

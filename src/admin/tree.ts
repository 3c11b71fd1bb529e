/**
 * Renders a directory the way `tree` prints it: the root as given, then one line per
 * entry with `|-- ` (more entries follow) or `` `-- `` (last entry), children indented
 * by `|   ` or four spaces, symlinks as `name -> target` and not descended into.
 * Entries are ordered by {@link compareNames}. The summary line `tree` adds ("N
 * directories, M files") is left out, as in the original documentation.
 */
import type { DirNode } from './nodes.js';
import { compareNames } from './paths.js';

/** The lines of `tree ROOTLABEL` for directory `root`, each ending in a newline. */
export function renderTree(rootLabel: string, root: DirNode): string {
  const lines = [rootLabel];
  const walk = (dir: DirNode, prefix: string): void => {
    const names = dir.list().sort(compareNames);
    names.forEach((name, i) => {
      const node = dir.lookup(name);
      if (!node) return; // vanished between list and lookup (cannot happen synchronously)
      const last = i === names.length - 1;
      lines.push(`${prefix}${last ? '`-- ' : '|-- '}${name}${node.kind === 'link' ? ` -> ${node.target}` : ''}`);
      if (node.kind === 'dir') walk(node, prefix + (last ? '    ' : '|   '));
    });
  };
  walk(root, '');
  return lines.join('\n') + '\n';
}

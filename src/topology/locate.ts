/**
 * Line and column of a JSON pointer in a parsed YAML (or JSON) document, so every
 * issue can name the line. A pointer to a key that should not be there points at the
 * key; anything else at the value; a pointer that does not exist (a missing required
 * key) at the closest enclosing node.
 */
import type { Document, LineCounter, Node } from 'yaml';
import type { TopologyLibs } from './libs.js';

export function locate(libs: TopologyLibs, doc: Document, lc: LineCounter, pointer: string, key?: string): { line: number; col: number } | undefined {
  const { isMap, isPair, isScalar, isSeq } = libs;
  const parts = pointer === '' ? [] : pointer.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let node: unknown = doc.contents;
  let at: Node | undefined = doc.contents ?? undefined;
  for (const p of parts) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === p);
      if (!pair) break;
      node = pair.value;
      if (node && (node as Node).range) at = node as Node;
      else if (pair.key && (pair.key as Node).range) at = pair.key as Node;
    } else if (isSeq(node)) {
      const item = node.items[Number(p)];
      if (!item) break;
      node = item;
      at = item as Node;
    } else break;
  }
  if (key !== undefined && isMap(node)) {
    const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === key);
    if (pair?.key && (pair.key as Node).range) at = pair.key as Node;
  }
  if (!at?.range) return undefined;
  return lc.linePos(at.range[0]);
}
